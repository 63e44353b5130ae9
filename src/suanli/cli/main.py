"""The ``suanli`` console script: registers one Typer sub-app per command group.

Coded errors (:class:`~suanli.core.errors.SuanliError`) print one line to stderr and exit 1;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Annotated

import click
import typer

from suanli.cli import (
    access,
    catalog,
    contract,
    customer,
    db,
    demo,
    econ,
    fleet,
    invoice,
    po,
    report,
    serve,
    sim,
    traces,
    usage,
)
from suanli.cli import cluster as cluster_cli
from suanli.cli import job as job_cli
from suanli.cli.render import err_console
from suanli.core.errors import SuanliError

app = typer.Typer(
    name="suanli",
    help="Suanli (算力): operate a GPU computing-power business.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(econ.app, name="econ")
app.add_typer(db.app, name="db")
app.add_typer(fleet.app, name="fleet")
app.add_typer(po.app, name="po")
app.add_typer(report.app, name="report")
app.add_typer(sim.app, name="sim")
app.add_typer(traces.app, name="traces")
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("init")(access.init)
app.add_typer(access.user_app, name="user")
app.add_typer(customer.app, name="customer")
app.add_typer(contract.app, name="contract")
app.add_typer(usage.app, name="usage")
app.add_typer(invoice.app, name="invoice")
app.add_typer(cluster_cli.app, name="cluster")
app.add_typer(job_cli.app, name="job")

_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
    except SuanliError as exc:
        if _state["debug"] or "--debug" in (argv or sys.argv):
            raise
        err_console.print(f"[red]error[/red] {exc.code}: {exc.message}", highlight=False)
        if exc.fields:
            err_console.print(f"  fields: {exc.fields}", highlight=False)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
