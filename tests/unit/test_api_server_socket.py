"""The API server's listening socket gives accepted connections TCP_NODELAY (without it,
uvicorn --workers answered every request ~40 ms late: Nagle + the client's delayed ACK)."""

from __future__ import annotations

import asyncio
import socket
import threading

from suanli.api.server import tcp_socket


def test_listening_socket_is_tcp_with_nodelay() -> None:
    sock = tcp_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.get_inheritable()
    finally:
        sock.close()


def test_accepted_connection_has_nodelay() -> None:
    sock = tcp_socket("127.0.0.1", 0)
    seen: list[int] = []

    async def main() -> None:
        def on_connect(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            seen.append(
                w.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            )
            w.close()

        server = await asyncio.start_server(on_connect, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    # in its own thread: a session-scoped Playwright browser keeps an event loop running in
    # this worker's main thread, and asyncio.run refuses to nest
    runner = threading.Thread(target=asyncio.run, args=(main(),))
    runner.start()
    runner.join(30)
    assert seen and seen[0] != 0
