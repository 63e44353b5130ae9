"""Extract the fenced code blocks of README.md and docs/*.md and run them verbatim.

Every fenced block carries an annotation, an HTML comment right before it (invisible on GitHub)::

    <!-- doc-test
    expect: 1 invoices created          (text the block's output must contain; repeatable)
    markers: slow dataset               (pytest markers the block runs under)
    setup: printf 'a,b\\n' > jobs.csv    (shell run before the block, for files it names)
    serve: yes                          (an API server on a free port; see api_server)
    timeout: 14400                      (seconds, for a block longer than the default)
    -->

or one of the single-line forms ``<!-- doc-test: text (a diagram) -->`` (not code: an ASCII
diagram, a code fragment) and ``<!-- doc-test: skip: REASON -->`` (code that cannot run in a
test: it serves forever, or runs the whole suite). A block without an annotation fails the
suite (kind "missing"), so a new block cannot go untested by accident.

How a block runs: ``bash`` blocks (and un-labelled ones) as a bash script (``console`` blocks:
their ``$ `` lines), ``python`` blocks
with the project's Python, in a fresh directory laid out like a checkout (``src``, ``tests``,
``benchmarks``, ``scripts`` linked, ``../shared`` linked to the shared data, ``.venv/bin/python``
and ``suanli`` on PATH running this checkout's code) against a fresh SQLite database
(``SUANLI_DATABASE_URL``; a block may export its own). Each logical command must exit 0, or 1
when its line ends with ``# → error CODE`` (then CODE must be printed). Output is the merged
stdout and stderr, at 80 columns. ``suanli`` runs the same CLI either as a fresh process or,
in the test suite, through a warm fork server (docblocks_forkserver.py) that saves the ~1 s of
imports per command; the block's text is run as written either way. A block that ends with a
Python heredoc, a quoted string over several lines or ``\\`` continuations is one command.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
ERROR_MARK = re.compile(r"#\s*→\s*error\s+(\S+)")
SERVER = Path(__file__).with_name("docblocks_forkserver.py")
LINKED = ("src", "tests", "benchmarks", "scripts", "pyproject.toml")


@dataclass(frozen=True)
class Block:
    """One fenced block and what its annotation asks."""

    path: str  # relative to the repository, e.g. "docs/billing.md"
    line: int  # of the opening fence
    lang: str
    code: str
    kind: str  # "run", "text" or "skip"
    reason: str = ""
    expect: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    serve: bool = False
    timeout: float | None = None

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class _Annotation:
    kind: str = "run"
    reason: str = ""
    expect: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    serve: bool = False
    timeout: float | None = None


def doc_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _parse_annotation(body: str, where: str) -> _Annotation:
    ann = _Annotation()
    body = body.strip()
    if body.startswith(":"):
        body = body[1:].strip()
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "text":
            ann.kind, ann.reason = "text", value or line[4:].strip()
        elif key == "skip":
            if not value:
                raise ValueError(f"{where}: 'skip' needs a reason")
            ann.kind, ann.reason = "skip", value
        elif key == "expect":
            ann.expect.append(value)
        elif key == "markers":
            ann.markers.extend(value.split())
        elif key == "setup":
            ann.setup.append(value)
        elif key == "serve":
            ann.serve = value == "yes"
        elif key == "timeout":
            ann.timeout = float(value)
        elif line.startswith("text"):
            ann.kind, ann.reason = "text", line[4:].strip()
        else:
            raise ValueError(f"{where}: unknown doc-test key {key!r}")
    return ann


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of one Markdown file (kind "missing" for a block with no annotation;
    ValueError for a malformed annotation)."""
    rel = str(path.relative_to(REPO))
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2)
        start = i
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        code = "\n".join(
            ln[len(indent) :] if ln.startswith(indent) else ln for ln in lines[i + 1 : j]
        )
        ann = _annotation_before(lines, start, f"{rel}:{start + 1}")
        found.append(
            Block(
                rel,
                start + 1,
                lang or "bash",
                code + "\n",
                ann.kind,
                ann.reason,
                tuple(ann.expect),
                tuple(ann.markers),
                tuple(ann.setup),
                ann.serve,
                ann.timeout,
            )
        )
        i = j + 1
    return found


def _annotation_before(lines: list[str], fence: int, where: str) -> _Annotation:
    k = fence - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    if k < 0 or not lines[k].strip().endswith("-->"):
        return _Annotation(
            "missing", f"{where}: code block without a <!-- doc-test ... --> annotation"
        )
    end = k
    while k >= 0 and "<!--" not in lines[k]:
        k -= 1
    text = "\n".join(lines[k : end + 1]).strip()
    text = text[text.index("<!--") + 4 : text.rindex("-->")].strip()
    if not text.startswith("doc-test"):
        return _Annotation("missing", f"{where}: the comment before the block is not doc-test")
    return _parse_annotation(text[len("doc-test") :], where)


def all_blocks() -> list[Block]:
    return [b for path in doc_files() for b in blocks(path)]


def commands(code: str) -> list[str]:
    """Logical shell commands: continuation lines joined, heredocs kept with their command."""
    out: list[str] = []
    lines = code.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cmd = [line]
        while i < len(lines) and (cmd[-1].rstrip().endswith("\\") or _open_quote(cmd)):
            cmd.append(lines[i])
            i += 1
        heredoc = HEREDOC.search(" ".join(cmd)) if "<<" in " ".join(cmd) else None
        if heredoc:
            while i < len(lines):
                cmd.append(lines[i])
                i += 1
                if lines[i - 1].strip() == heredoc.group(1):
                    break
        out.append("\n".join(cmd))
    return out


def source(block: Block) -> str:
    """The code to run: a ``console`` block keeps only its ``$ `` lines (and their continuation
    lines), without the prompt; the other lines show output and are not run."""
    if block.lang != "console":
        return block.code
    out: list[str] = []
    going = False
    for line in block.code.splitlines():
        if line.startswith("$ "):
            out.append(line[2:])
        elif going:
            out.append(line)
        else:
            continue
        going = line.rstrip().endswith("\\") or _open_quote(out)
    return "\n".join(out) + "\n"


def _open_quote(cmd: list[str]) -> bool:
    """True while a quoted string of the command runs on to the next line."""
    try:
        shlex.split("\n".join(cmd), comments=True)
    except ValueError:
        return True
    return False


def script(code: str) -> str:
    """The block as a bash script that stops at the first command with an unexpected status."""
    parts = []
    for n, cmd in enumerate(commands(code), 1):
        m = ERROR_MARK.search(cmd)
        want = 1 if m else 0
        parts.append(
            f"{cmd}\n__rc=$?\nif [ $__rc -ne {want} ]; then\n"
            f'  echo "doc-test: command {n} exited $__rc, expected {want}: "{shlex.quote(cmd)} >&2\n'
            f"  exit 90\nfi\n"
        )
    return "".join(parts)


def error_codes(code: str) -> list[str]:
    return [m.group(1) for cmd in commands(code) if (m := ERROR_MARK.search(cmd))]


def _shim(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(0o755)


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUANLI_", "PYTEST_"))}
    env.pop("PYTHONPATH", None)
    env.update(USER="docs", COLUMNS="80", LINES="40", TERM="dumb", PYTHONHASHSEED="0")
    return env


@contextmanager
def forkserver(directory: Path) -> Iterator[Path]:
    """A warm CLI (tests/docblocks_forkserver.py) for the blocks' ``suanli`` commands."""
    sock = directory / "suanli.sock"
    env = base_env() | {"PYTHONPATH": f"{REPO / 'src'}:{REPO / 'tests'}"}
    proc = subprocess.Popen([sys.executable, str(SERVER), "serve", str(sock)], env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield sock
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def prepare(root: Path, shared: Path, server: Path | None = None) -> tuple[Path, dict[str, str]]:
    """A directory laid out like a checkout, and the environment a block runs with."""
    work = root / "checkout"
    work.mkdir()
    for name in LINKED:
        (work / name).symlink_to(REPO / name)
    (work / "docs").mkdir()
    (root / "shared").symlink_to(shared)
    src = REPO / "src"
    py = sys.executable
    _shim(work / ".venv" / "bin" / "python",
          f'PYTHONPATH="{src}${{PYTHONPATH:+:$PYTHONPATH}}" exec {shlex.quote(py)} "$@"')  # fmt: skip
    if server is None:
        suanli = f'PYTHONPATH="{src}" exec {shlex.quote(py)} -m suanli.cli.main "$@"'
    else:
        suanli = f'exec {shlex.quote(py)} -I -S {SERVER} call {server} "$@"'
    _shim(root / "bin" / "suanli", suanli)
    env = base_env()
    env.update(
        PATH=f"{root / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        SUANLI_DATABASE_URL=f"sqlite:///{root / 'suanli.db'}",
        SUANLI_SHARED=str(shared),
        XDG_DATA_HOME=str(root / "xdg-data"),
        HOME=str(root / "home"),
    )
    (root / "home").mkdir()
    return work, env


@contextmanager
def api_server(work: Path, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """``suanli init`` + ``suanli serve`` on a free port, for blocks that call the API with curl
    (``localhost:8000`` in the block is pointed at that port; the admin token is in
    ``$SUANLI_TOKEN`` and ``$TOKEN``)."""
    cli = [sys.executable, "-m", "suanli.cli.main"]
    env = env | {"PYTHONPATH": str(REPO / "src")}
    init = subprocess.run([*cli, "init"], cwd=work, env=env, capture_output=True, text=True)
    token = next(w for w in init.stdout.split() if w.startswith("sl_"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], cwd=work, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the API server did not start") from None
                time.sleep(0.2)
        yield {"SUANLI_TOKEN": token, "TOKEN": token, "port": str(port)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(
    block: Block,
    root: Path,
    shared: Path,
    timeout: float,
    server: Path | None = None,
    api: dict[str, str] | None = None,
) -> tuple[int, str]:
    """Run one block (``suanli`` through ``server``, API calls to ``api`` — an
    :func:`api_server` answer — when given); (exit status, merged output)."""
    work, env = prepare(root, shared, server)
    with contextlib.ExitStack() as stack:
        code = source(block)
        if block.serve:
            api = dict(api or stack.enter_context(api_server(work, env)))
            code = code.replace("localhost:8000", f"localhost:{api.pop('port')}")
            env |= api
        setup = "".join(f"{line}\n" for line in block.setup)
        if block.lang == "python":
            if setup:
                subprocess.run(["bash", "-c", setup], cwd=work, env=env, check=True)
            argv = [str(work / ".venv" / "bin" / "python"), "-c", code]
        else:
            argv = ["bash", "-c", setup + script(code)]
        proc = subprocess.run(argv, cwd=work, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=block.timeout or timeout)  # fmt: skip
    return proc.returncode, proc.stdout
