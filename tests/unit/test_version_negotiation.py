"""API version negotiation (``VsphereBackend._negotiate_version``) against real-shaped ``vimServiceVersions.xml``.

Each document is served by a loopback ``http.server`` and read through the real code path. Where pyVmomi's own
negotiation (``pyVim.connect.__FindSupportedVersion``, what ``SmartConnect`` calls) gives an answer, it is the
oracle; the cases where dvmirror deliberately differs are tested as such.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tui.backends import EXIT_CONNECTION, BackendError
from tui.backends._versions import MAX_BYTES, BadServiceVersions, NoCommonVersion, version_tuple
from tui.backends.vsphere import VsphereBackend
from tui.config import Settings


def versions_xml(current: str, *prior: str, name: str = "urn:vim25", pretty: bool = False) -> bytes:
    """A ``vimServiceVersions.xml`` as vCenter writes it (one line) or as vcsim does (indented)."""
    nl, ind = ("\n", " ") if pretty else ("", "")
    priors = "".join(f"{nl}{ind * 3}<version>{v}</version>" for v in prior)
    prior_block = f"{nl}{ind * 2}<priorVersions>{priors}{nl}{ind * 2}</priorVersions>" if prior else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" ?>{nl}<namespaces version="1.0">{nl}{ind}<namespace>'
        f"{nl}{ind * 2}<name>{name}</name>{nl}{ind * 2}<version>{current}</version>{prior_block}"
        f"{nl}{ind}</namespace>{nl}</namespaces>{nl}"
    ).encode()


VCENTER_8_0_3_PRIOR = [
    "8.0.2.0",
    "8.0.1.0",
    "8.0.0.2",
    "8.0.0.1",
    "8.0.0.0",
    "7.0.3.2",
    "7.0.3.1",
    "7.0.3.0",
    "7.0.2.1",
    "7.0.2.0",
    "7.0.1.1",
    "7.0.1.0",
    "7.0.0.2",
    "7.0.0.0",
    "6.9.1",
    "6.8.7",
    "6.7.3",
    "6.7.2",
    "6.7.1",
    "6.7",
    "6.5",
    "6.0",
    "5.5",
    "5.1",
    "5.0",
    "4.1",
    "4.0",
]
VCENTER_8_0_3 = versions_xml("uA046D008", *VCENTER_8_0_3_PRIOR)
"""The shape of vCenter 8.0.3's file (build 69507950): an internal id as the current version, public ones prior."""
VCENTER_6_5 = versions_xml("6.5", "6.0", "5.5", "5.1", "5.0", "4.1", "4.0")
VCSIM = versions_xml("7.0.3.0", "6.0", "5.5", pretty=True)
"""govmomi vcsim's template, with the API version our test server advertises."""


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    endless: bool = False


class VersionServer:
    """A loopback HTTP server answering ``GET /sdk/vimServiceVersions.xml`` with :attr:`reply`."""

    def __init__(self) -> None:
        self.reply = Reply()
        self.paths: list[str] = []
        self.sent = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.paths.append(self.path)
                r = server.reply
                self.send_response(r.status)
                for k, v in r.headers.items():
                    self.send_header(k, v)
                if r.endless:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        while server.sent < 64 * MAX_BYTES:  # bounded, in case the client never stops
                            self.wfile.write(b"<namespaces>" * 1024)
                            server.sent += 12 * 1024
                    except OSError:
                        pass
                    return
                self.send_header("Content-Length", str(len(r.body)))
                self.end_headers()
                self.wfile.write(r.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def serve(self, body: bytes = b"", status: int = 200, **kw: Any) -> VersionServer:
        self.reply = Reply(status=status, body=body, **kw)
        return self

    def backend(self) -> VsphereBackend:
        return VsphereBackend(
            Settings(server="127.0.0.1", port=self.port, scheme="http", user="u", password="p"), timeout=5
        )

    def negotiate(self) -> str:
        return self.backend()._negotiate_version(None, "")

    def pyvmomi(self) -> str | None:
        """What pyVmomi's own negotiation (``SmartConnect``'s) picks from the same server."""
        from pyVim import connect
        from pyVmomi import VmomiSupport

        find = getattr(connect, "__FindSupportedVersion")  # module-private, so not name-mangled
        preferred = VmomiSupport.GetServiceVersions("vim25")
        result = find("http", "127.0.0.1", self.port, "/sdk", preferred, None, None, 80, None)
        return None if result is None else str(result)


@pytest.fixture
def server() -> Iterator[VersionServer]:
    s = VersionServer()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(VCENTER_8_0_3, "vim.version.v8_0_2_0", id="vcenter-8.0.3-internal-current"),
        pytest.param(VCENTER_6_5, "vim.version.version11", id="vcenter-6.5"),
        pytest.param(VCSIM, "vim.version.v7_0_3_0", id="vcsim"),
        # pyVmomi 9.1.1.0 knows one internal id itself: vim.version.v9_1_0_1 is "m5CA1EF4D".
        pytest.param(versions_xml("m5CA1EF4D", "9.1.0.0", "9.0.0.0", "8.0.3.0"), "vim.version.v9_1_0_1", id="internal"),
        pytest.param(versions_xml("10.0.0.0", "9.1.1.0", "9.1.0.0"), "vim.version.v9_1_1_0", id="newer-than-pyvmomi"),
        pytest.param(versions_xml("6.7.1"), "vim.version.version13", id="only-one"),
        pytest.param(versions_xml("2.5u2server", "2.5"), "vim.version.version4", id="letters-in-id"),
    ],
)
def test_pyvmomi_agrees(server: VersionServer, body: bytes, expected: str) -> None:
    server.serve(body)
    assert server.negotiate() == expected
    assert server.pyvmomi() == expected
    assert server.paths == ["/sdk/vimServiceVersions.xml"] * 2


def test_never_a_version_the_server_did_not_list(server: VersionServer) -> None:
    from pyVmomi import VmomiSupport

    for listed in (["7.0.1.1"], ["6.7.3", "6.5"], ["5.5"], ["8.0.0.1", "7.0"]):
        server.serve(versions_xml(*listed))
        chosen = server.negotiate()
        assert VmomiSupport.versionIdMap[chosen] == listed[0]


def test_newer_public_prior_wins_over_older_current(server: VersionServer) -> None:
    # The order of the file does not matter: pyVmomi's newest listed version is chosen.
    server.serve(versions_xml("7.0.3.0", "6.5", "8.0.1.0"))
    assert server.negotiate() == server.pyvmomi() == "vim.version.v8_0_1_0"


def test_white_space_around_ids(server: VersionServer) -> None:
    server.serve(versions_xml("\n  8.0.2.0\t", "8.0.1.0"))
    assert server.negotiate() == "vim.version.v8_0_2_0"


def test_only_vim25_counts(server: VersionServer) -> None:
    """pyVmomi looks at every namespace of the file; dvmirror only at urn:vim25, the API it speaks."""
    body = (
        b'<namespaces version="1.0"><namespace><name>urn:sms</name><version>9.1.1.0</version></namespace>'
        b"<namespace><name>urn:vim25</name><version>7.0.3.0</version></namespace></namespaces>"
    )
    server.serve(body)
    assert server.negotiate() == "vim.version.v7_0_3_0"
    assert server.pyvmomi() == "vim.version.v9_1_1_0"  # the difference, shown


def test_no_vim25_namespace(server: VersionServer) -> None:
    server.serve(versions_xml("8.0.2.0", "7.0", name="urn:sms"))
    with pytest.raises(BadServiceVersions, match="lists no urn:vim25 API version"):
        server.negotiate()


def test_nothing_in_common(server: VersionServer) -> None:
    server.serve(versions_xml("uFFFF0001", "10.1.0.0", "10.0.0.0"))
    assert server.pyvmomi() is None
    with pytest.raises(NoCommonVersion) as err:
        server.negotiate()
    message = str(err.value)
    assert "up to 10.1.0.0 (3 listed in http://127.0.0.1:" in message
    assert "pyVmomi 9.1.1.0 knows none of them (it knows 2.0 to 9.1.1.0)" in message
    assert err.value.exit_code == EXIT_CONNECTION


def test_unicode_digits_are_not_digits(server: VersionServer) -> None:
    server.serve(versions_xml("٨.٠.٢.٠", "８.０", "\u202e7.0", "\x9b2J7.0"))  # ESC itself is not XML
    with pytest.raises(NoCommonVersion) as err:
        server.negotiate()
    message = str(err.value)
    assert "'\\u0668.\\u0660.\\u0662.\\u0660'" in message  # shown escaped, never as digits
    assert "\u202e" not in message and "\x9b" not in message and "\\u202e7.0" in message
    for text in ("٨.٠", "²", "①", "7.0 ", "7..0", "", "uA046D008"):
        with pytest.raises(ValueError, match="ASCII digits"):
            version_tuple(text)
    assert version_tuple("7.0") == (7, 0, 0, 0)
    assert version_tuple("8.0.2.0") > version_tuple("8.0.1.10") > version_tuple("8.0.1")


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        pytest.param(Reply(status=404, body=b"Not Found"), "does not look like vCenter: .* gave HTTP 404", id="404"),
        pytest.param(Reply(status=503), "gave HTTP 503", id="503"),
        pytest.param(Reply(body=b""), "vimServiceVersions.xml is empty", id="empty"),
        pytest.param(Reply(body=b" \r\n\t"), "is empty", id="blank"),
        pytest.param(Reply(body=b'{"versions": ["8.0.2.0"]}'), "is not XML", id="json"),
        pytest.param(Reply(body=VCENTER_8_0_3[:200]), "is not XML", id="cut-short"),
        pytest.param(Reply(body=b"<html><body>Welcome</body></html>"), "root element is html", id="html"),
        pytest.param(
            Reply(body=VCENTER_6_5.replace(b"<namespaces ", b'<namespaces xmlns="urn:x" ')),
            "root element is '{urn:x}namespaces'",
            id="xml-namespace",
        ),
        pytest.param(
            Reply(body=VCENTER_6_5.replace(b'version="1.0">', b'version="2.0">', 1)),
            "format version 2.0, not 1.0",
            id="format-2.0",
        ),
        pytest.param(
            Reply(body=b'<!DOCTYPE n [<!ENTITY v "8.0.2.0">]><namespaces version="1.0"/>'),
            "has a DOCTYPE",
            id="doctype",
        ),
        pytest.param(
            Reply(body=b'<namespaces version="1.0"><namespace><name>urn:vim25</name></namespace></namespaces>'),
            "lists no urn:vim25 API version",
            id="no-version",
        ),
        pytest.param(
            Reply(body=VCENTER_6_5.replace(b"</namespaces>", b" " * MAX_BYTES + b"</namespaces>")),
            "larger than 256 KiB",
            id="huge",
        ),
        pytest.param(Reply(endless=True), "larger than 256 KiB", id="endless"),
        pytest.param(Reply(body=b"\x1f\x8bnot gzip", headers={"Content-Encoding": "gzip"}), "not valid gzip", id="gz"),
        pytest.param(Reply(body=VCENTER_6_5, headers={"Content-Encoding": "br"}), "unknown Content-Encoding br"),
        pytest.param(Reply(body=b"not deflate", headers={"Content-Encoding": "deflate"}), "not valid deflate data"),
        pytest.param(
            Reply(body=gzip.compress(VCENTER_6_5)[:-12], headers={"Content-Encoding": "gzip"}),
            "is cut short",
            id="gzip-cut-short",
        ),
        pytest.param(
            Reply(body=gzip.compress(b" " * (2 * MAX_BYTES)), headers={"Content-Encoding": "gzip"}),
            "larger than 256 KiB once decompressed",
            id="gzip-bomb",
        ),
    ],
)
def test_bad_documents(server: VersionServer, reply: Reply, match: str) -> None:
    server.reply = reply
    with pytest.raises(BadServiceVersions, match=match) as err:
        server.negotiate()
    assert isinstance(err.value, BackendError) and err.value.exit_code == EXIT_CONNECTION
    assert "http://127.0.0.1:" in str(err.value)
    if reply.endless:
        assert server.sent < 64 * MAX_BYTES  # dvmirror stopped reading


def test_connect_reports_it_unchanged(server: VersionServer) -> None:
    """Through ``connect()`` (with its error mapping), the message is the same; nothing else is sent."""
    server.serve(status=404)
    backend = server.backend()
    with pytest.raises(BadServiceVersions, match="gave HTTP 404") as err:
        backend.connect()
    assert "the default path is /sdk" in err.value.hint
    assert server.paths == ["/sdk/vimServiceVersions.xml"]


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("gzip", gzip.compress(VCENTER_8_0_3)),
        ("deflate", zlib.compress(VCENTER_8_0_3)),
        ("deflate", zlib.compress(VCENTER_8_0_3)[2:-4]),  # raw deflate, without the zlib wrapper
        ("identity", VCENTER_8_0_3),
    ],
    ids=["gzip", "zlib-deflate", "raw-deflate", "identity"],
)
def test_encoded_bodies(server: VersionServer, encoding: str, data: bytes) -> None:
    server.serve(data, headers={"Content-Encoding": encoding})
    assert server.negotiate() == "vim.version.v8_0_2_0"
