"""The ``suanli`` console script: a lazily loaded registry of command groups.

Start-up must stay instant (``suanli --help`` imports no FastAPI, SQLAlchemy, scipy or
matplotlib), so this module imports no command module at load time. Each group is listed in
:data:`COMMANDS` with its one-line help; its module is imported only when the command runs (or
when its own ``--help`` is shown). To add a group, add one row to :data:`COMMANDS` and keep heavy
imports inside the module's command functions (see docs/cli.md, "Adding a CLI command").

Coded errors (:class:`~suanli.core.errors.SuanliError`) print one line to stderr and exit 1;
usage errors (unknown command, bad option value, missing argument) print one line and exit 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any, NamedTuple

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from suanli.core import i18n
from suanli.core.errors import SuanliError
from suanli.core.i18n import _


class LazyCommand(NamedTuple):
    """Where a top-level command lives: ``suanli.cli.<module>.<attribute>`` and its help line.

    ``attribute`` names a ``typer.Typer`` sub-app (a group) or a plain function (one command).
    """

    module: str
    attribute: str
    help: str


COMMANDS: dict[str, LazyCommand] = {
    "serve": LazyCommand("serve", "serve", "Serve the API (OpenAPI at /docs)."),
    "demo": LazyCommand(
        "demo",
        "demo",
        "Seed the documented demo center (2 sites, 58 servers, an overdue order ...) and serve it.",
    ),
    "init": LazyCommand(
        "access",
        "init",
        "Migrate the database and create the first admin; prints its API token once.",
    ),
    "catalog": LazyCommand("catalog", "app", "GPU and server catalog."),
    "econ": LazyCommand(
        "econ", "app", "Economics: cash flows, payback, NPV/IRR, break-even and risk."
    ),
    "plan": LazyCommand("plan", "app", "Planning: purchases (how many servers, which, when)."),
    "db": LazyCommand("db", "app", "Database schema: upgrade and current revision."),
    "fleet": LazyCommand("fleet", "app", "Sites, cabinets and servers; lifecycle transitions."),
    "po": LazyCommand("po", "app", "Purchase orders, deliveries and procurement reports."),
    "report": LazyCommand(
        "report", "app", "Disclosure: announcements, transfers, the operating report (HTML/PDF)."
    ),
    "sim": LazyCommand("sim", "app", "Trace-driven simulations."),
    "infer": LazyCommand(
        "infer", "app", "Inference: capacity planning, cost per token, day model."
    ),
    "twin": LazyCommand(
        "twin", "app", "Digital twin: demand → leases → billing → P&L, months ahead."
    ),
    "traces": LazyCommand("traces", "app", "Workload traces."),
    "user": LazyCommand(
        "access", "user_app", "Users (admin, operator, finance, customer) and their API tokens."
    ),
    "customer": LazyCommand("customer", "app", "Customers (tenants)."),
    "contract": LazyCommand(
        "contract", "app", "Lease and reserved-capacity contracts; the on-demand price list."
    ),
    "usage": LazyCommand("usage", "app", "Metered GPU usage."),
    "tokens": LazyCommand("tokens", "app", "Inference tokens: price list, usage, usage by day."),
    "invoice": LazyCommand(
        "invoice", "app", "Invoices, credit notes, payments, AR aging and revenue reports."
    ),
    "credit": LazyCommand(
        "credit", "app", "Customer credit balances: apply to a later invoice, or refund."
    ),
    "cluster": LazyCommand("cluster", "app", "The cluster engine (Slurm) and the ledger."),
    "job": LazyCommand("job", "app", "Cloud jobs run on the cluster engine."),
}


def load_command(name: str) -> Any:
    """Import the module behind ``name`` and build its click command (group or single command)."""
    entry = COMMANDS[name]
    target = getattr(importlib.import_module(f"suanli.cli.{entry.module}"), entry.attribute)
    if isinstance(target, typer.Typer):
        command: Any = typer.main.get_group(target)
    else:
        single = typer.Typer()
        single.command(name, help=entry.help)(target)
        command = typer.main.get_command(single)
    command.name = name
    if not command.help:
        command.help = entry.help
    return command


class _LazyGroup(TyperGroup):
    """A root group whose sub-commands are imported on first use, not at start-up."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        eager = super().list_commands(ctx)
        return [*eager, *(name for name in COMMANDS if name not in eager)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            if self._listing:  # the root --help needs only the help line
                return TyperCommand(name=cmd_name, help=COMMANDS[cmd_name].help)
            self.commands[cmd_name] = load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="suanli",
    cls=_LazyGroup,
    help="Suanli (算力): operate a GPU computing-power business.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# typer >= 0.2x vendors click (typer._click); older releases use click itself. Find the
# exception base class typer actually raises rather than importing click.
_CLICK_EXCEPTION: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
_USAGE_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of messages and table headers: en or zh (default: $SUANLI_LANG, "
            "else en). Error codes and --json keys never change.",
        ),
    ] = None,
) -> None:
    _state["debug"] = debug
    if lang is not None:
        if i18n.normalise(lang) is None:
            raise typer.BadParameter(
                f"expected one of {', '.join(i18n.LANGS)}", param_hint="--lang"
            )
        i18n.set_language(lang)


def _err(line: str) -> None:
    from suanli.cli.render import err_console

    err_console.print(line, highlight=False, markup=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    # $SUANLI_LANG, which --lang overrides; the caller's language is restored afterwards
    with i18n.language(os.environ.get("SUANLI_LANG") or i18n.DEFAULT_LANG):
        _main(argv)


def _early_lang(args: list[str]) -> str | None:
    """``--lang X`` before the command name: usage errors found before the root callback runs
    (an unknown command) are then in that language too."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
        if not arg.startswith("-"):
            return None
    return None


def _main(argv: list[str] | None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    debug = "--debug" in args
    early = _early_lang(args)
    if early and i18n.normalise(early):
        i18n.set_language(early)
    try:
        code = app(args=argv, prog_name="suanli", standalone_mode=False)
    except SuanliError as exc:
        if _state["debug"] or debug:
            raise
        from suanli.cli.render import err_console

        word, fields = _("error"), _("fields")  # the code after it never changes
        err_console.print(f"[red]{word}[/red] {exc.code}: {exc.message}", highlight=False)
        if exc.fields:
            err_console.print(f"  {fields}: {exc.fields}", highlight=False)
        sys.exit(1)
    except _CLICK_EXCEPTION as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `suanli` / bare group: show help
            exc.show()  # type: ignore[attr-defined]
            sys.exit(0)
        if debug:
            raise
        message = " ".join(str(exc.format_message()).split())  # type: ignore[attr-defined]
        if isinstance(exc, _USAGE_ERROR):
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "suanli"
            _err(_("error usage: %(message)s (try '%(where)s --help')")
                 % {"message": message, "where": where})  # fmt: skip
        else:
            _err(_("error: %(message)s") % {"message": message})
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
