"""A loopback TCP proxy that breaks the connection at a chosen SOAP call (tests only).

It sits between dvmirror and the vcsim test server, reads each HTTP request far enough to know
which SOAP method it carries (the first element inside ``<soapenv:Body>``; a ``SOAPAction`` of
the form ``urn:vim25/8.0.3.0`` names only the version, so the body decides; plain ``GET``
requests are named ``GET /path``), counts the calls, and at the call a :class:`Fault` names it:

``cut_before``
    closes the client's connection without forwarding the request (the server never sees it);
``cut_after``
    forwards the request, reads the whole response and closes the client's connection without
    returning any of it (the server did the work; the client cannot know);
``cut_mid``
    forwards, then returns only the first ``at_byte`` bytes of the response and closes (a load
    cut in the middle of a page);
``delay``
    waits ``seconds`` before forwarding;
``stall``
    never forwards and never answers (the connection stays open until the proxy stops);
``stall_after``
    forwards (the server does the work), never answers.

``FaultProxy(..., silent=True)`` accepts TCP connections and never reads or answers anything.

Everything runs in daemon threads; every socket has a timeout; the proxy stops by itself after
``lifetime`` seconds (and on :meth:`FaultProxy.stop` or leaving its ``with`` block), closing
every connection it holds. Only loopback addresses are accepted. TLS: ``upstream_tls`` (a client
context) speaks https to the server, ``server_tls`` (a server context with a certificate)
speaks https to the client; either may be left out.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

ACTIONS = ("cut_before", "cut_after", "cut_mid", "delay", "stall", "stall_after")
_METHOD = re.compile(rb"<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?([A-Za-z_][\w.-]*)")
_MAX_HEAD = 64 * 1024
_IO_TIMEOUT = 60.0
"""No single read or write of the proxy waits longer than this."""


class _Closed(Exception):
    """The peer closed its side (or the proxy is stopping)."""


@dataclass
class Fault:
    """Break call number ``nth`` (1 = the first) of ``method``; ``nth=0`` breaks every call.

    ``method`` is a SOAP method name (``ReconfigureDvs_Task``, ``RetrievePropertiesEx``,
    ``FetchDVPorts``), ``GET /sdk/vimServiceVersions.xml``, or ``*`` for any request.
    ``contains`` further requires these bytes in the request body (e.g. ``b"VirtualMachine"``).
    """

    method: str
    action: str
    nth: int = 1
    seconds: float = 0.0
    at_byte: int = 2048
    contains: bytes = b""
    on_fire: Callable[[], object] | None = None
    """Called (in the proxy's thread) when the fault breaks a call, before it acts: e.g. a rival
    client changing the switch while dvmirror's change is in flight."""
    fired: int = 0
    """How many times it has broken a call."""
    armed: bool = True
    _seen: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r} (known: {', '.join(ACTIONS)})")

    def disarm(self) -> None:
        """Break nothing from now on."""
        self.armed = False

    def rearm(self, nth: int = 1) -> None:
        """Break call ``nth`` counted from now (0 = every call)."""
        self.nth, self._seen, self.armed = nth, 0, True

    def matches(self, method: str, body: bytes) -> bool:
        """Count this call if it is one of ours; True when it is the one to break."""
        if not self.armed or self.method not in ("*", method) or (self.contains and self.contains not in body):
            return False
        self._seen += 1
        return self.nth == 0 or self._seen == self.nth


@dataclass
class _Request:
    head: bytes
    body: bytes
    method: str

    @property
    def raw(self) -> bytes:
        return self.head + self.body


class FaultProxy:
    """``FaultProxy(("127.0.0.1", server_port), faults=[Fault("ReconfigureDvs_Task", "cut_after")])``."""

    def __init__(
        self,
        target: tuple[str, int],
        *,
        faults: list[Fault] | tuple[Fault, ...] = (),
        silent: bool = False,
        lifetime: float = 180.0,
        upstream_tls: ssl.SSLContext | None = None,
        server_tls: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if host not in ("127.0.0.1", "::1") or target[0] not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the fault proxy works on loopback addresses only")
        self.target = target
        self.faults = list(faults)
        self.silent = silent
        self.lifetime = lifetime
        self.upstream_tls = upstream_tls
        self.server_tls = server_tls
        self.calls: Counter[str] = Counter()
        """How many requests of each method went through (or were stopped here)."""
        self.log: list[str] = []
        """Every request's method, in order."""
        self.fired: list[tuple[str, str]] = []
        """``(method, action)`` of every fault that broke a call, in order."""
        self.connections = 0
        """TCP connections accepted."""
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._deadline = time.monotonic() + lifetime
        self._accepter = threading.Thread(target=self._accept_loop, name="faultproxy-accept", daemon=True)
        self._accepter.start()

    # -- public -----------------------------------------------------------------------------

    def url(self, path: str = "/sdk") -> str:
        """The URL dvmirror should dial."""
        scheme = "https" if self.server_tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{path}"

    def add(self, fault: Fault) -> Fault:
        """Arm one more fault (it counts calls from now on)."""
        with self._lock:
            self.faults.append(fault)
        return fault

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> bool:
        """Wait until ``count`` calls of ``method`` were seen; False on timeout."""
        end = time.monotonic() + timeout
        with self._changed:
            while self.calls[method] < count:
                left = end - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return self.calls[method] >= count
                self._changed.wait(min(left, 0.2))
        return True

    def stop(self) -> None:
        """Close the listener and every connection; wait briefly for the threads."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for s in sockets:
            _hard_close(s)
        for t in [self._accepter, *self._threads]:
            if t is not threading.current_thread():
                t.join(timeout=2)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- threads ----------------------------------------------------------------------------

    def _stopping(self) -> bool:
        if not self._stop.is_set() and time.monotonic() > self._deadline:
            self.stop_soon()
        return self._stop.is_set()

    def stop_soon(self) -> None:
        """Stop from inside a proxy thread (the lifetime ran out)."""
        if not self._stop.is_set():
            threading.Thread(target=self.stop, name="faultproxy-stop", daemon=True).start()
            self._stop.set()

    def _track(self, s: socket.socket) -> None:
        with self._lock:
            if self._stop.is_set():
                _hard_close(s)
                raise _Closed
            self._sockets.add(s)

    def _untrack(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(s)
        _hard_close(s)

    def _accept_loop(self) -> None:
        while not self._stopping():
            try:
                client, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            t = threading.Thread(target=self._serve, args=(client,), name="faultproxy-conn", daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
            t.start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            self._track(client)
            client.settimeout(_IO_TIMEOUT)
            if self.silent:
                self._hold()
                return
            if self.server_tls is not None:
                client = self.server_tls.wrap_socket(client, server_side=True)
                self._track(client)
            reader = _Reader(client, self._stopping)
            while not self._stopping():
                request = _read_request(reader)
                if request is None:
                    return
                fault = self._note(request)
                action = fault.action if fault else ""
                if fault is not None and fault.on_fire is not None:
                    fault.on_fire()
                if action == "cut_before":
                    return
                if action == "stall":
                    self._hold()
                    return
                if action == "delay" and self._stop.wait(fault.seconds if fault else 0):
                    return
                if upstream is None:
                    upstream = self._dial()
                    up_reader = _Reader(upstream, self._stopping)
                _send(upstream, request.raw)
                response, keep = _read_response(up_reader, head_only=request.head.startswith(b"HEAD "))
                if not keep:
                    self._untrack(upstream)
                    upstream = None
                if action == "cut_after":
                    return
                if action == "stall_after":
                    self._hold()
                    return
                if action == "cut_mid":
                    _send(client, response[: fault.at_byte if fault else 0])
                    return
                _send(client, response)
                if not keep:
                    return
        except (_Closed, OSError, ValueError):
            return
        finally:
            if upstream is not None:
                self._untrack(upstream)
            self._untrack(client)

    def _hold(self) -> None:
        """Keep the connection open, answering nothing, until the proxy stops."""
        while not self._stopping():
            self._stop.wait(0.2)

    def _dial(self) -> socket.socket:
        s = socket.create_connection(self.target, timeout=_IO_TIMEOUT)
        self._track(s)
        if self.upstream_tls is not None:
            s = self.upstream_tls.wrap_socket(s, server_hostname=self.target[0])
            self._track(s)
        return s

    def _note(self, request: _Request) -> Fault | None:
        """Count the request; the fault that breaks it, if any."""
        with self._changed:
            self.calls[request.method] += 1
            self.log.append(request.method)
            chosen = None
            for fault in self.faults:
                if fault.matches(request.method, request.body) and chosen is None:
                    chosen = fault
            if chosen is not None:
                chosen.fired += 1
                self.fired.append((request.method, chosen.action))
            self._changed.notify_all()
        return chosen


# -- HTTP/1.1, just enough -------------------------------------------------------------------


class _Reader:
    """Buffered reads from a socket that give up when the proxy stops."""

    def __init__(self, sock: socket.socket, stopping: object) -> None:
        self.sock = sock
        self.buf = b""
        self._stopping = stopping

    def _fill(self) -> None:
        while True:
            if self._stopping():  # type: ignore[operator]
                raise _Closed
            try:
                self.sock.settimeout(0.5)
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except ssl.SSLWantReadError:
                continue
            if not chunk:
                raise _Closed
            self.buf += chunk
            return

    def until(self, marker: bytes, limit: int = _MAX_HEAD) -> bytes:
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("header too long")
            self._fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self) -> bytes:
        with contextlib.suppress(_Closed):
            while True:
                self._fill()
        out, self.buf = self.buf, b""
        return out


def _headers(head: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            out[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return out


def _read_body(reader: _Reader, headers: dict[str, str]) -> bytes | None:
    """The body as it was sent (chunks included); None when it runs to the end of the connection."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        out = b""
        while True:
            size_line = reader.until(b"\r\n")
            out += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    line = reader.until(b"\r\n")
                    out += line
                    if line == b"\r\n":
                        return out
            out += reader.exactly(size + 2)
    if "content-length" in headers:
        return reader.exactly(int(headers["content-length"]))
    return None


def _read_request(reader: _Reader) -> _Request | None:
    try:
        head = reader.until(b"\r\n\r\n")
    except _Closed:
        return None
    headers = _headers(head)
    body = _read_body(reader, headers) or b""
    verb, _, rest = head.partition(b" ")
    if verb == b"POST":
        found = _METHOD.search(body[:8192])
        method = found.group(1).decode("ascii", "replace") if found else "POST"
    else:
        path = rest.split(b" ", 1)[0].decode("latin-1")
        method = f"{verb.decode('latin-1')} {path}"
    return _Request(head, body, method)


def _read_response(reader: _Reader, *, head_only: bool = False) -> tuple[bytes, bool]:
    """``(the raw response, whether the connection may carry another one)``."""
    while True:
        head = reader.until(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 100:
            break
    headers = _headers(head)
    keep = headers.get("connection", "").lower() != "close" and not head.startswith(b"HTTP/1.0")
    if head_only or status in (204, 304) or 100 <= status < 200:
        return head, keep
    body = _read_body(reader, headers)
    if body is None:
        return head + reader.rest(), False
    return head + body, keep


def _send(s: socket.socket, data: bytes) -> None:
    """Send everything (reads poll with short timeouts; a write may take up to the I/O timeout)."""
    s.settimeout(_IO_TIMEOUT)
    s.sendall(data)


def _hard_close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()
