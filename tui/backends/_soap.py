"""Raw SOAP for the big responses: pyVmomi's session and connections, our streaming parser.

pyVmomi's deserializer costs about 13 µs per XML element (performance.md §2), which makes a
10,000-VM device list or port list take tens of seconds. For those responses only we send the
request pyVmomi would send (``SerializeRequest``, same cookie, same connection pool, gzip
accepted) and parse the reply with ``xml.etree``'s C-accelerated pull parser, handing each
finished top-level item to a converter and then freeing it. Faults (HTTP 500) are small and
go back through pyVmomi, so callers see the same ``vim.fault.*`` exceptions either way.

This module is imported only by :mod:`tui.backends.vsphere`, after pyVmomi is loaded. It holds
the transport (request, content encoding, envelope, fault); the converters that turn each
element into a model object are in :mod:`._parse` (their names are importable from here too).
"""

from __future__ import annotations

import contextlib
import io
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from tui.backends import ConnectionFailed
from tui.backends._parse import _NIC_TYPES as _NIC_TYPES
from tui.backends._parse import _OTHER_DEVICE_TYPES as _OTHER_DEVICE_TYPES
from tui.backends._parse import NS as NS
from tui.backends._parse import OBJECTS as OBJECTS
from tui.backends._parse import RETURNVAL as RETURNVAL
from tui.backends._parse import TOKEN as TOKEN
from tui.backends._parse import XSI_TYPE as XSI_TYPE
from tui.backends._parse import NotAuthenticatedError as NotAuthenticatedError
from tui.backends._parse import _guest_ips as _guest_ips
from tui.backends._parse import object_props as object_props
from tui.backends._parse import parse_port as parse_port
from tui.backends._parse import parse_vm as parse_vm
from tui.backends._parse import q as q
from tui.backends._parse import unescape_name as unescape_name
from tui.gcpause import gc_paused as gc_paused

CHUNK = 256 * 1024


@dataclass
class WireStats:
    """What went over the wire through :class:`RawSoap` (the pyVmomi calls are not counted)."""

    requests: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0


class Cancel:
    """Stops the requests of one load at once: set from the load's thread when one part of it
    failed, so that the others (on other connections) end now rather than read on.

    Every connection a request of the load holds is registered here while it is read; calling
    the object shuts them all down, and any later read of the load raises ``ConnectionAbortedError``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: set[Any] = set()
        self.cancelled = False

    def add(self, conn: Any) -> None:
        with self._lock:
            self._conns.add(conn)
        if self.cancelled:
            _cut(conn)

    def discard(self, conn: Any) -> None:
        with self._lock:
            self._conns.discard(conn)

    def __call__(self) -> None:
        self.cancelled = True
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            _cut(conn)


def _cut(conn: Any) -> None:
    """Shut a connection's socket down (another thread's read then fails at once)."""
    sock = getattr(conn, "sock", None)
    if sock is not None:
        import socket

        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Reply:
    """A whole reply read ahead (:meth:`RawSoap.fetch`), decoded, not yet parsed."""

    chunks: list[bytes]
    what: str
    received: int


class RawSoap:
    """Send pyVmomi-serialized requests on pyVmomi's stub; stream-parse the responses.

    Thread-safe: several threads may each have a request on its own connection of the stub's
    pool (the cookie is shared), as a load does to overlap the network with the parser.
    """

    def __init__(self, stub: Any, stats: WireStats | None = None) -> None:
        self.stub = stub
        self.stats = stats or WireStats()
        self._active: set[Any] = set()
        """The connections of the responses being read (for :meth:`abort`)."""
        self._lock = threading.Lock()
        self.aborted = False

    @property
    def active(self) -> Any:
        """One connection whose response is being read, or ``None``."""
        with self._lock:
            return next(iter(self._active), None)

    def abort(self) -> None:
        """Cut every response being read (from another thread) and refuse further calls.

        The reading threads then fail with a connection error.
        """
        self.aborted = True
        with self._lock:
            conns = list(self._active)
        for conn in conns:
            _cut(conn)

    def _headers(self) -> dict[str, str]:
        return {
            "Cookie": self.stub.cookie,
            "SOAPAction": self.stub.versionId,
            "Content-Type": "text/xml; charset=UTF-8",
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": "dvmirror (pyVmomi session)",
        }

    def _count(self, sent: int = 0, received: int = 0) -> None:
        with self._lock:
            self.stats.requests += 1 if sent else 0
            self.stats.bytes_sent += sent
            self.stats.bytes_received += received

    def stream(
        self, mo: Any, method: str, args: list[Any], items: frozenset[str], cancel: Cancel | None = None
    ) -> Iterator[ET.Element]:
        """Call ``mo.method(*args)`` and yield every finished element whose tag is in ``items``.

        Each yielded element is cleared once the consumer asks for the next one, so memory
        stays flat whatever the response size. A SOAP fault raises the pyVmomi exception.
        Socket and HTTP errors propagate as they are (the caller maps them, and may retry);
        a reply that arrived but cannot be read (unknown or corrupt content encoding, XML
        that is malformed, cut short or not a SOAP response) raises :class:`ConnectionFailed`
        with a message naming what was wrong. ``cancel`` ends the read at once when called.
        """
        if self.aborted:
            raise ConnectionAbortedError("closed")
        conn, resp, decoder, what = self._send(mo, method, args, cancel)
        reusable = False
        try:
            counter = [0]
            yield from _elements(self._chunks(resp, decoder, counter, cancel), items, what, counter)
            reusable = True
        finally:
            self._release(conn, reusable, cancel)

    def fetch(self, mo: Any, method: str, args: list[Any], cancel: Cancel | None = None) -> Reply:
        """Call ``mo.method(*args)`` and read the whole reply, decoded but not parsed (for
        :func:`elements` later): the network's part of a request, which a thread can do while
        another parses. Raises as :meth:`stream` does (a fault at once, a broken reply when parsed)."""
        if self.aborted:
            raise ConnectionAbortedError("closed")
        conn, resp, decoder, what = self._send(mo, method, args, cancel)
        reusable = False
        try:
            counter = [0]
            chunks = list(self._chunks(resp, decoder, counter, cancel))
            reusable = True
        finally:
            self._release(conn, reusable, cancel)
        return Reply(chunks, what, counter[0])

    def _send(self, mo: Any, method: str, args: list[Any], cancel: Cancel | None) -> tuple[Any, Any, _Decoder, str]:
        """Send the request; the connection, the response (status 200) and its decoder."""
        from http.client import HTTPException

        stub = self.stub
        info = type(mo)._GetMethodInfo(method)
        what = f"vCenter's reply to {getattr(info, 'wsdlName', None) or method}"
        body = stub.SerializeRequest(mo, info, args)
        conn = stub.GetConnection()
        with self._lock:
            self._active.add(conn)
        if cancel is not None:
            cancel.add(conn)
        reusable = False
        try:
            self._count(sent=len(body))
            conn.request("POST", stub.path, body, self._headers())
            resp = conn.getresponse()
            cookie = resp.getheader("Set-Cookie")
            if cookie:
                stub.cookie = cookie
            decoder = _Decoder(resp.getheader("Content-Encoding", "identity"), what)
            if resp.status == 500:
                data = self._read_all(resp, decoder)
                reusable = True
                raise _fault(stub, data, info, what)
            if resp.status != 200:
                raise HTTPException(f"{resp.status} {resp.reason}")
        except BaseException:
            self._release(conn, reusable, cancel)
            raise
        return conn, resp, decoder, what

    def _release(self, conn: Any, reusable: bool, cancel: Cancel | None) -> None:
        with self._lock:
            self._active.discard(conn)
        if cancel is not None:
            cancel.discard(conn)
        if reusable and not (cancel is not None and cancel.cancelled):
            self.stub.ReturnConnection(conn)
        else:
            conn.close()

    def _chunks(self, resp: Any, decoder: _Decoder, counter: list[int], cancel: Cancel | None) -> Iterator[bytes]:
        """The decoded body, piece by piece (the last piece is what the decoder holds at the end)."""
        while True:
            chunk = resp.read(CHUNK)
            if not chunk:
                break
            counter[0] += len(chunk)
            self._count(received=len(chunk))
            yield decoder.decode(chunk)
            if cancel is not None and cancel.cancelled:
                raise ConnectionAbortedError("cancelled")
        if self.aborted or (cancel is not None and cancel.cancelled):
            raise ConnectionAbortedError("closed")
        yield decoder.finish()

    def _read_all(self, resp: Any, decoder: _Decoder) -> bytes:
        raw = resp.read()
        self._count(received=len(raw))
        return decoder.decode(raw) + decoder.finish()


def elements(reply: Reply, items: frozenset[str]) -> Iterator[ET.Element]:
    """The elements of a :class:`Reply` read ahead, as :meth:`RawSoap.stream` yields them."""
    return _elements(iter(reply.chunks), items, reply.what, [reply.received])


def _elements(chunks: Iterator[bytes], items: frozenset[str], what: str, counter: list[int]) -> Iterator[ET.Element]:
    """Parse ``chunks`` (the decoded body, the last one the decoder's end) and yield every finished
    element whose tag is in ``items``, clearing each once the consumer asks for the next."""
    parser: Any = ET.XMLPullParser(events=("end",))
    last = None
    closing = False
    try:  # XMLPullParser reports an error from feed() at the next read_events()
        for data in chunks:
            parser.feed(data)
            for _event, last in parser.read_events():
                if last.tag in items:
                    yield last
                    last.clear()
        closing = True
        parser.close()
        for _event, last in parser.read_events():
            if last.tag in items:
                yield last
                last.clear()
    except ET.ParseError as e:
        if closing:
            message = f"{what} ended early: the XML stops after {counter[0]} bytes"
        else:
            message = f"{what} is not well-formed XML ({e}, within the first {counter[0]} bytes)"
        raise ConnectionFailed(message, hint=_BAD_REPLY_HINT) from None
    _check_envelope(last, what)


_BAD_REPLY_HINT = "vCenter, or a proxy between, sent a broken reply; try again (r)."
SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE = f"{{{SOAPENV}}}Envelope"
_BODY = f"{{{SOAPENV}}}Body"
_SOAP_FAULT = f"{{{SOAPENV}}}Fault"


def _check_envelope(root: ET.Element | None, what: str) -> None:
    """Refuse a well-formed document that is not a SOAP response (a proxy's page, say)."""
    body = root.find(_BODY) if root is not None and root.tag == _ENVELOPE else None
    if body is None:
        shown = repr(root.tag)[:80] if root is not None else "nothing"
        raise ConnectionFailed(f"{what} is not a SOAP envelope (it is {shown})", hint=_BAD_REPLY_HINT)
    # pyVmomi's SoapResponseDeserializer takes the first element whose name ends in "Response".
    if any(child.tag.endswith("Response") for child in body):
        return
    fault = body.find(_SOAP_FAULT)
    if fault is not None:
        text = (fault.findtext("faultstring") or "").strip()
        raise ConnectionFailed(f"{what} is a SOAP fault sent as a success (HTTP 200): {text[:200]!r}")
    raise ConnectionFailed(f"{what} is a SOAP envelope without a response in it", hint=_BAD_REPLY_HINT)


class _Decoder:
    """Undo a ``Content-Encoding`` piece by piece: ``identity``, ``gzip`` or ``deflate``.

    ``deflate`` should be zlib-wrapped (RFC 9110 §8.4.1.2) but servers also send raw deflate,
    and some send gzip under that name; the first two bytes tell them apart, as pyVmomi's
    ``GzipReader`` intends. Every failure is a :class:`ConnectionFailed` naming the encoding.
    """

    def __init__(self, header: str | None, what: str) -> None:
        codings = [c.strip().lower() for c in (header or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self.what = what
        self.encoding = {"x-gzip": "gzip"}.get(codings[0], codings[0]) if len(codings) == 1 else "identity"
        if len(codings) > 1 or self.encoding not in ("identity", "gzip", "deflate"):
            raise ConnectionFailed(
                f"{what} uses the content encoding {(header or '')[:60]!r}; dvmirror reads gzip, deflate or none",
                hint=_BAD_REPLY_HINT,
            )
        self._z: Any = None
        self._head = b""

    def decode(self, data: bytes) -> bytes:
        if self.encoding == "identity":
            return data
        try:
            if self._z is None:
                self._head += data
                if len(self._head) < 2:
                    return b""
                data, self._head = self._head, b""
                self._z = zlib.decompressobj(self._wbits(data))
            out: bytes = self._z.decompress(data)
            while self._z.eof and self._z.unused_data:
                rest = self._z.unused_data
                if self.encoding != "gzip" or rest[:2] != b"\x1f\x8b":
                    raise zlib.error("data after the end of the compressed stream")
                # A gzip body may hold several members (RFC 1952 §2.2), read one after the other.
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out += self._z.decompress(rest)
            return out
        except zlib.error as e:
            raise ConnectionFailed(
                f"{self.what} is not valid {self.encoding} data ({e})", hint=_BAD_REPLY_HINT
            ) from None

    def finish(self) -> bytes:
        """What is left; raises if the compressed stream did not end."""
        if self.encoding == "identity":
            return b""
        if self._z is None and not self._head:
            return b""  # an empty body: the XML parser says what is missing
        out = self.decode(b"") if self._z is None else b""
        if self._z is None or not self._z.eof:
            raise ConnectionFailed(
                f"{self.what} ended early: the {self.encoding} data stops before its end", hint=_BAD_REPLY_HINT
            )
        return out + self._z.flush()

    def _wbits(self, head: bytes) -> int:
        if head[:2] == b"\x1f\x8b":
            return 16 + zlib.MAX_WBITS  # gzip, also when sent as "deflate"
        if self.encoding == "gzip":
            return 32 + zlib.MAX_WBITS  # gzip or zlib, detected by zlib from the header
        cmf, flg = head[0], head[1]
        if cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0:
            return zlib.MAX_WBITS  # a zlib header (RFC 1950 §2.2)
        return -zlib.MAX_WBITS  # raw deflate (RFC 1951)


def _fault(stub: Any, data: bytes, info: Any, what: str) -> BaseException:
    """The pyVmomi exception for a SOAP fault body (HTTP 500)."""
    from pyVmomi.SoapAdapter import SoapResponseDeserializer

    try:
        obj = SoapResponseDeserializer(stub).Deserialize(io.BytesIO(data), info.result)
    except Exception as e:  # expat, or a fault type this pyVmomi does not know
        return ConnectionFailed(
            f"{what} is an error (HTTP 500) whose SOAP fault cannot be read ({type(e).__name__}: {str(e)[:120]!r})",
            hint=_BAD_REPLY_HINT,
        )
    if isinstance(obj, BaseException):
        return obj
    from http.client import HTTPException

    return HTTPException("500 from vCenter without a SOAP fault")
