"""A warm ``suanli`` for the documentation blocks: the same CLI, without paying its imports
(about 1 s of CPU) for each of the ~60 commands the blocks run.

``python docblocks_forkserver.py serve SOCKET`` imports the CLI and every command module once,
then forks a child per request; the child takes the caller's stdin/stdout/stderr (passed over
the Unix socket), working directory, environment and argv, runs ``suanli.cli.main.main`` and
exits with its status. ``python docblocks_forkserver.py call SOCKET ARGS...`` is the client the
``suanli`` shim execs: stdlib only, so it starts in a few milliseconds. Nothing in the parent
reads settings or opens a database, so every child starts from a clean state.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import struct
import sys
import threading
from typing import Any

WARM = (
    "sqlalchemy",
    "alembic.command",
    "suanli.store.db",
    "suanli.services.container",
    "suanli.settings",
    "suanli.cli.context",
)


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _child(request: dict[str, Any], fds: list[int]) -> None:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update(request["env"])
    argv = list(request["argv"])
    sys.argv = ["suanli", *argv]
    code = 0
    try:
        from suanli.cli.main import main

        main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException:  # a crash shows as one would in a real process
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _reply(conn: socket.socket, pid: int) -> None:
    with conn:
        _, status = os.waitpid(pid, 0)
        conn.sendall(struct.pack("!i", os.waitstatus_to_exitcode(status)))


def _accept(server: socket.socket) -> None:
    """One request: read it, fork (from the main thread), answer from a waiting thread."""
    conn, _ = server.accept()
    size = struct.unpack("!I", _recv_exact(conn, 4))[0]
    msg, fds, _, _ = socket.recv_fds(conn, size, 3)
    while len(msg) < size:
        msg += _recv_exact(conn, size - len(msg))
    pid = os.fork()
    if pid == 0:
        server.close()
        conn.close()
        _child(json.loads(msg), fds)
    for fd in fds:
        os.close(fd)
    threading.Thread(target=_reply, args=(conn, pid), daemon=True).start()


def serve(path: str) -> None:
    from suanli.cli import main as cli

    for name in cli.COMMANDS:
        cli.load_command(name)
    for module in WARM:
        importlib.import_module(module)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    print("ready", flush=True)
    while True:
        _accept(server)


def call(path: str, argv: list[str]) -> int:
    request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(path)
        conn.sendall(struct.pack("!I", len(request)))
        socket.send_fds(conn, [request], [0, 1, 2])
        return int(struct.unpack("!i", _recv_exact(conn, 4))[0])


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit(call(sys.argv[2], sys.argv[3:]))
