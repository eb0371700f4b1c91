"""Real vCenter SOAP traffic, recorded by others, replayed on loopback.

pyVmomi's own test suite ships vcrpy cassettes recorded against real vCenters (``tests/fixtures/*.yaml`` in
its sdists on PyPI). They are third-party data, so they are not part of this repository: :func:`cassette_dir`
downloads an sdist with pip (hash-pinned, :data:`SDISTS`) into ``tests/.cache/pyvmomi-fixtures/VERSION/``
(git-ignored) and unpacks only those files. :class:`ReplayServer` answers each request with the recorded
response of the same SOAP method (the first element of the SOAP body; GETs by path), in recorded order, and
keeps what it was sent.

vcrpy stored the bodies decoded (``decode_compressed_response=True``), so no cassette holds gzip bytes; the
server can gzip a recorded body itself (``gzip=True``) when the client accepts it, and sends ``chunked`` what
was recorded ``chunked``.
"""

from __future__ import annotations

import fcntl
import gzip as gzip_module
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO

SDISTS = {
    "8.0.3.0.1": "db795c960159cfa3c81e6af4cf1f46618e61cf0349db1666de75df98a4f29c69",
    "6.7.3": "d639d09eb3c7b118bc83b48472c27a4567dcc128dac0ac25ee2c03ed6afbe584",
}
"""pyVmomi sdists on PyPI and their SHA-256. 8.0.3.0.1 is the newest with an sdist (the wheels carry no tests);
6.7.3 holds older recordings of other servers, made when pyVmomi still read properties with RetrievePropertiesEx."""
CACHE = REPO / "tests" / ".cache" / "pyvmomi-fixtures"
MAX_CASSETTE = 4 * 1024 * 1024


def unavailable(message: str) -> None:
    """Skip locally; fail in CI (the pattern of ``_unavailable`` in tests/integration/conftest.py)."""
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(message)


def cassette_dir(version: str = "8.0.3.0.1") -> Path:
    """The folder of pyVmomi ``version``'s cassettes, downloading and unpacking them on first use."""
    sha256 = SDISTS[version]
    target = CACHE / version
    done = target / ".complete"
    if done.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return target
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            _download(version, sha256, Path(tmp))
            if target.exists():
                shutil.rmtree(target)
            (Path(tmp) / "fixtures").rename(target)
    return target


def _download(version: str, sha256: str, tmp: Path) -> None:
    sdist = f"pyvmomi=={version}"
    requirements = tmp / "requirements.txt"
    requirements.write_text(f"{sdist} --hash=sha256:{sha256}\n")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--require-hashes"]
    cmd += ["-r", str(requirements), "-d", str(tmp), "--quiet"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        unavailable(f"cannot download {sdist} (pyVmomi's recorded vCenter replies): {e}")
    if result.returncode != 0:
        if "DO NOT MATCH THE HASHES" in result.stderr:
            pytest.fail(f"{sdist} from the package index is not the expected file:\n{result.stderr}")
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        unavailable(f"cannot download {sdist} (pyVmomi's recorded vCenter replies): {last}")
    archives = list(tmp.glob("pyvmomi-*.tar.gz"))
    if len(archives) != 1 or hashlib.sha256(archives[0].read_bytes()).hexdigest() != sha256:
        pytest.fail(f"pip did not leave the expected {sdist} sdist in {tmp}")
    top = f"pyvmomi-{version}/tests/fixtures/"
    out = tmp / "fixtures"
    out.mkdir()
    with tarfile.open(archives[0]) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix(top)
            if name == member.name or not re.fullmatch(r"[A-Za-z0-9_]+\.yaml", name, re.ASCII):
                continue
            if not member.isfile() or member.size > MAX_CASSETTE:
                continue
            source = tar.extractfile(member)
            assert source is not None
            (out / name).write_bytes(source.read())
    (out / ".complete").write_text(f"{sdist} {sha256}\n")


# -- cassettes ----------------------------------------------------------------------------------


def _loader() -> Any:
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):
        """Safe YAML plus the one Python tag old vcrpy wrote (``!!python/unicode``: a plain string)."""

    Loader.add_constructor("tag:yaml.org,2002:python/unicode", lambda loader, node: loader.construct_scalar(node))
    return Loader


_BODY_METHOD = re.compile(rb"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)", re.ASCII)


def soap_method(body: bytes) -> str:
    """The SOAP method of a request body: the local name of the first element in ``<Body>``."""
    m = _BODY_METHOD.search(body)
    return m.group(1).decode() if m else ""


@dataclass
class Interaction:
    index: int
    method: str
    """HTTP method."""
    path: str
    soap: str
    """The SOAP method ('' for a GET)."""
    request_headers: dict[str, list[str]]
    request_body: bytes
    status: int
    headers: dict[str, list[str]]
    body: bytes


@dataclass
class Cassette:
    name: str
    interactions: list[Interaction]

    def find(self, soap: str = "", path: str = "") -> list[Interaction]:
        return [i for i in self.interactions if (soap and i.soap == soap) or (path and i.path == path)]

    @property
    def service_versions(self) -> Interaction | None:
        found = [i for i in self.interactions if i.method == "GET" and i.path.endswith("/vimServiceVersions.xml")]
        return found[0] if found else None


def _headers(raw: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in (raw or {}).items():
        out[str(k).lower()] = [str(x) for x in (v if isinstance(v, list) else [v])]
    return out


def _text(value: Any) -> bytes:
    if isinstance(value, dict):
        value = value.get("string")
    if value is None:
        return b""
    return value if isinstance(value, bytes) else str(value).encode()


def load_cassette(path: Path) -> Cassette:
    import yaml

    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_loader())  # a SafeLoader: no Python objects
    interactions = []
    for n, item in enumerate(data["interactions"]):
        rq, rs = item["request"], item["response"]
        body = _text(rq.get("body"))
        uri = str(rq["uri"])
        interactions.append(
            Interaction(
                index=n,
                method=str(rq["method"]),
                path=urlsplit(uri).path or "/",
                soap=soap_method(body) if rq["method"] == "POST" else "",
                request_headers=_headers(rq.get("headers")),
                request_body=body,
                status=int(rs["status"]["code"]),
                headers=_headers(rs.get("headers")),
                body=_text(rs.get("body")),
            )
        )
    return Cassette(path.name, interactions)


# -- the replay server --------------------------------------------------------------------------


@dataclass
class Seen:
    """A request the replay server received, and what it answered."""

    method: str
    path: str
    soap: str
    headers: dict[str, str]
    body: bytes
    answered: int | None
    """The index of the recorded interaction sent back (``None``: nothing recorded, HTTP 501)."""
    encoding: str = "identity"


_HOP_BY_HOP = {"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive", "date"}


@dataclass
class ReplayServer:
    """Answers on 127.0.0.1 with the recorded responses of ``cassette``.

    ``extra`` adds answers by key (a SOAP method, or a path for GETs) ahead of the recorded ones, for what a
    cassette lacks; tests say what they add and why. ``gzip`` compresses answers for clients that accept it.
    """

    cassette: Cassette
    extra: dict[str, list[Interaction]] = field(default_factory=dict)
    gzip: bool = False
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queues: dict[str, deque[Interaction]] = defaultdict(deque)
        for key, answers in self.extra.items():
            self._queues[key].extend(answers)
        for i in self.cassette.interactions:
            self._queues[i.soap or f"{i.method} {i.path}"].append(i)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._answer(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server._answer(self, self.rfile.read(length))

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests(self) -> list[str]:
        """What was asked, in order: SOAP methods, or ``GET /path``."""
        return [s.soap or f"{s.method} {s.path}" for s in self.seen]

    @property
    def unanswered(self) -> list[str]:
        return [s.soap or f"{s.method} {s.path}" for s in self.seen if s.answered is None]

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        soap = soap_method(body) if handler.command == "POST" else ""
        key = soap or f"{handler.command} {handler.path}"
        with self._lock:
            queue = self._queues.get(key)
            recorded = queue.popleft() if queue else None
        seen = Seen(handler.command, handler.path, soap, dict(handler.headers.items()), body, None)
        self.seen.append(seen)
        if recorded is None:
            text = f"nothing recorded for {key}\n".encode()
            handler.send_response(501)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(text)))
            handler.end_headers()
            handler.wfile.write(text)
            return
        seen.answered = recorded.index
        payload = recorded.body
        handler.send_response(recorded.status)
        for name, values in recorded.headers.items():
            if name not in _HOP_BY_HOP:
                for value in values:
                    handler.send_header(name, value)
        if self.gzip and "gzip" in (handler.headers.get("Accept-Encoding") or ""):
            payload = gzip_module.compress(payload)
            seen.encoding = "gzip"
            handler.send_header("Content-Encoding", "gzip")
        if "chunked" in recorded.headers.get("transfer-encoding", []):
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for start in range(0, len(payload), 1000):
                piece = payload[start : start + 1000]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            handler.wfile.write(b"0\r\n\r\n")
        else:
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)


def answer(body: bytes, *, status: int = 200, chunked: bool = True) -> Interaction:
    """An answer that is not in a cassette (for :attr:`ReplayServer.extra`)."""
    headers = {"content-type": ["text/xml; charset=utf-8"]}
    if chunked:
        headers["transfer-encoding"] = ["chunked"]
    return Interaction(-1, "", "", "", {}, b"", status, headers, body)


# -- cutting real elements out of recorded bodies, byte for byte ---------------------------------


def child_spans(body: bytes, parent: str, child: str) -> list[bytes]:
    """The exact bytes of every ``<child>`` element directly inside each ``<parent>`` element of ``body``.

    ``parent`` ``""`` means the root element of ``body``.
    """
    import xml.parsers.expat

    spans: list[bytes] = []
    stack: list[str] = []
    starts: list[int] = []
    parser = xml.parsers.expat.ParserCreate()

    def start(name: str, _attrs: Any) -> None:
        local = name.rsplit(":", 1)[-1]
        inside = len(stack) == 1 if not parent else bool(stack) and stack[-1] == parent
        if local == child and inside:
            starts.append(parser.CurrentByteIndex)
        else:
            starts.append(-1)
        stack.append(local)

    def end(name: str) -> None:
        stack.pop()
        begin = starts.pop()
        if begin >= 0:
            stop = body.index(b">", parser.CurrentByteIndex) + 1
            spans.append(body[begin:stop])

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(body, True)
    return spans


def returnval(body: bytes) -> bytes:
    """The exact bytes of the ``<returnval>`` of a recorded response."""
    spans = child_spans(body, "FetchResponse", "returnval")
    if len(spans) != 1:
        raise ValueError("not one returnval")
    return spans[0]


def inner(element: bytes) -> tuple[bytes, bytes]:
    """``(start tag attributes, content)`` of one element's bytes."""
    m = re.fullmatch(rb"<([\w:]+)([^>]*)>(.*)</\1>", element, re.S)
    if m is None:
        m2 = re.fullmatch(rb"<([\w:]+)([^>]*?)/>", element, re.S)
        if m2 is None:
            raise ValueError("not one element")
        return m2.group(2), b""
    return m.group(2), m.group(3)


def iter_cassettes(folder: Path) -> Iterator[Cassette]:
    for path in sorted(folder.glob("*.yaml")):
        yield load_cassette(path)


_FETCH_VM = re.compile(rb'<_this[^>]*type="VirtualMachine"[^>]*>([^<]+)</_this>\s*<prop[^>]*>([^<]+)</prop>')
_OBJ_VM = re.compile(rb'<obj[^>]*type="VirtualMachine"[^>]*>([^<]+)</obj>')
_PATHSET = re.compile(rb"<pathSet[^>]*>([^<]+)</pathSet>")


def vm_values(cassette: Cassette) -> dict[tuple[str, str], bytes]:
    """``(VM moid, property) → the recorded value element`` (first reply of each), byte for byte.

    pyVmomi 8 reads one property per ``Fetch`` (the value is the ``<returnval>``); pyVmomi 6.7 used a
    ``RetrievePropertiesEx`` per property (the value is the ``<val>`` of the one ``propSet``).
    """
    out: dict[tuple[str, str], bytes] = {}
    for i in cassette.interactions:
        if i.status != 200:
            continue
        if i.soap == "Fetch":
            m = _FETCH_VM.search(i.request_body)
            values = child_spans(i.body, "FetchResponse", "returnval")  # none: the property is unset
            if m and len(values) == 1:
                out.setdefault((m.group(1).decode(), m.group(2).decode()), values[0])
        elif i.soap == "RetrievePropertiesEx":
            objs, paths = _OBJ_VM.findall(i.request_body), _PATHSET.findall(i.request_body)
            values = child_spans(i.body, "propSet", "val")
            if len(objs) == 1 and len(paths) == 1 and len(values) == 1:
                out.setdefault((objs[0].decode(), paths[0].decode()), values[0])
    return out


def envelope_head(cassette: Cassette) -> bytes:
    """The recorded SOAP envelope up to ``<soapenv:Body>`` (from the first SOAP reply)."""
    for i in cassette.interactions:
        if i.soap and b"<soapenv:Body>" in i.body:
            return i.body[: i.body.index(b"<soapenv:Body>")]
    raise ValueError("no SOAP reply")
