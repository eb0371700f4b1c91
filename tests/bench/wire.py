"""Counting what a benchmark's process puts on the wire: HTTP requests, and the bytes sent and
received on every socket. Process-wide (the classes are patched), so install it in a child
process of its own, before the client connects."""

from __future__ import annotations

import http.client
import socket
from typing import Any


class Wire:
    """Counts HTTP requests and the bytes sent and received on every socket of the process."""

    def __init__(self) -> None:
        self.requests = self.sent = self.received = 0
        wire = self
        request, sendall, send = http.client.HTTPConnection.request, socket.socket.sendall, socket.socket.send
        recv_into, recv = socket.socket.recv_into, socket.socket.recv

        def counted_request(conn: Any, *args: Any, **kwargs: Any) -> Any:
            wire.requests += 1
            return request(conn, *args, **kwargs)

        def counted_sendall(sock: Any, data: Any, *args: Any) -> Any:
            wire.sent += len(data)
            return sendall(sock, data, *args)

        def counted_send(sock: Any, data: Any, *args: Any) -> int:
            n = send(sock, data, *args)
            wire.sent += n
            return n

        def counted_recv_into(sock: Any, buffer: Any, *args: Any) -> int:
            n = recv_into(sock, buffer, *args)
            wire.received += n
            return n

        def counted_recv(sock: Any, *args: Any) -> bytes:
            data = recv(sock, *args)
            wire.received += len(data)
            return data

        setattr(http.client.HTTPConnection, "request", counted_request)  # noqa: B010 - counting, process-wide
        setattr(socket.socket, "sendall", counted_sendall)  # noqa: B010
        setattr(socket.socket, "send", counted_send)  # noqa: B010
        setattr(socket.socket, "recv_into", counted_recv_into)  # noqa: B010
        setattr(socket.socket, "recv", counted_recv)  # noqa: B010

    def snapshot(self) -> tuple[int, int, int]:
        """``(requests, sent, received)`` so far."""
        return self.requests, self.sent, self.received

    def reset(self) -> None:
        self.requests = self.sent = self.received = 0
