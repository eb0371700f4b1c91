"""Which vSphere API version to speak, chosen the way pyVmomi's ``SmartConnect`` chooses it.

``pyVim.connect.SmartConnect`` reads ``/sdk/vimServiceVersions.xml`` and walks pyVmomi's own
versions (``VmomiSupport.GetServiceVersions("vim25")``, newest first) until one of them is listed by
the server, as its current ``<version>`` or under ``<priorVersions>`` (``__VersionIsSupported``,
``__FindSupportedVersion``). Only what the server lists is ever chosen, so a vCenter whose current
version is an internal build id (vCenter 8.0.3 says ``uA046D008`` and lists ``8.0.2.0`` first among
its prior versions) gets the newest public version both sides know.

pyVmomi's helpers are private (double underscore), read the reply without a size limit or timeout,
and turn every failure into ``None`` or a bare ``Exception``; so the logic is mirrored here, with two
deliberate differences: only the ``urn:vim25`` namespace counts (pyVmomi looks at every namespace of
the file), and every failure is a :class:`~tui.backends.ConnectionFailed` that says what was wrong.
The public parts of pyVmomi are used as they are: ``GetServiceVersions`` for the order and
``versionIdMap`` for the version ids.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from tui.backends import ConnectionFailed

MAX_BYTES = 256 * 1024
"""The most of ``vimServiceVersions.xml`` that is read (a real one is about 1 KB)."""
NAMESPACE = "urn:vim25"

_NUMERIC = re.compile(r"[0-9]+(?:\.[0-9]+)*", re.ASCII)
_PLAIN = re.compile(r"[A-Za-z0-9._-]{1,40}", re.ASCII)
_SPACE = " \t\r\n"
"""XML's own white space (``str.strip()`` would also take Unicode spaces)."""


class BadServiceVersions(ConnectionFailed, title="Not a vSphere server"):
    """``vimServiceVersions.xml`` is missing or unreadable: the server does not look like vSphere."""


class NoCommonVersion(ConnectionFailed, title="No common API version"):
    """The server lists no API version that this pyVmomi knows."""


def version_tuple(text: str) -> tuple[int, ...]:
    """``"7.0"`` → ``(7, 0, 0, 0)``: a dotted version of ASCII digits, for comparing.

    Raises ``ValueError`` for anything else (internal ids like ``uA046D008``, Unicode digits).
    """
    if not _NUMERIC.fullmatch(text):
        raise ValueError(f"not a dotted version of ASCII digits: {text!r}")
    parts = [int(p) for p in text.split(".")]
    while len(parts) < 4:
        parts.append(0)
    return tuple(parts)


def shown(text: str) -> str:
    """A server-supplied version id as it can be shown safely: plain ids as they are, others quoted."""
    return text if _PLAIN.fullmatch(text) else ascii(text[:40])


def decode(body: bytes, encoding: str, where: str) -> bytes:
    """The body without its ``Content-Encoding`` (identity, gzip, deflate), at most :data:`MAX_BYTES`."""
    if len(body) > MAX_BYTES:
        raise BadServiceVersions(f"{where} is larger than {MAX_BYTES // 1024} KiB, so it is not vSphere's")
    encoding = (encoding or "identity").strip(_SPACE).lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadServiceVersions(f"{where} came with an unknown Content-Encoding {shown(encoding)}")
    # gzip; deflate as RFC 9110 defines it (zlib-wrapped), else raw deflate, as some servers send it
    tries = [16 + zlib.MAX_WBITS] if encoding != "deflate" else [zlib.MAX_WBITS, -zlib.MAX_WBITS]
    for wbits in tries:
        d = zlib.decompressobj(wbits)
        try:
            out = d.decompress(body, MAX_BYTES + 1)
            if len(out) <= MAX_BYTES:
                out += d.flush()
        except zlib.error:
            continue
        if len(out) > MAX_BYTES:
            raise BadServiceVersions(f"{where} is larger than {MAX_BYTES // 1024} KiB once decompressed")
        if not d.eof:
            raise BadServiceVersions(f"{where} is cut short (its {encoding} data ends early)")
        return out
    raise BadServiceVersions(f"{where} is not valid {encoding} data")


class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise ValueError("DOCTYPE")


def listed_versions(body: bytes, where: str) -> list[str]:
    """The ``urn:vim25`` version ids the document lists: current first, then the prior ones.

    ``where`` names the document in messages (e.g. ``https://vc/sdk/vimServiceVersions.xml``).
    """
    if len(body) > MAX_BYTES:
        raise BadServiceVersions(f"{where} is larger than {MAX_BYTES // 1024} KiB, so it is not vSphere's")
    if not body.strip(_SPACE.encode()):
        raise BadServiceVersions(f"{where} is empty", hint="Check the server address and path (default /sdk).")
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(body)
        root = parser.close()
    except ET.ParseError as e:
        raise BadServiceVersions(
            f"{where} is not XML ({e})", hint="Check the server address and path (default /sdk)."
        ) from None
    except ValueError:
        raise BadServiceVersions(f"{where} has a DOCTYPE, which vSphere's never has") from None
    if root.tag != "namespaces":
        raise BadServiceVersions(
            f"{where} is not a vSphere service version list (its root element is {shown(root.tag)})",
            hint="Check the server address and path (default /sdk).",
        )
    if root.get("version") != "1.0":
        raise BadServiceVersions(f"{where} has format version {shown(root.get('version') or '')}, not 1.0")
    listed: list[str] = []
    for ns in root.findall("namespace"):
        if (ns.findtext("name") or "").strip(_SPACE) != NAMESPACE:
            continue
        for elem in [ns.find("version"), *ns.findall("priorVersions/version")]:
            text = (elem.text or "").strip(_SPACE) if elem is not None else ""
            if text and text not in listed:
                listed.append(text)
    if not listed:
        raise BadServiceVersions(f"{where} lists no {NAMESPACE} API version: the server does not offer vSphere's API")
    return listed


def choose(listed: Sequence[str], where: str) -> str:
    """The pyVmomi version name (``vim.version.v8_0_2_0``) to speak: pyVmomi's newest that is listed."""
    from pyVmomi import VmomiSupport, version_info_str

    offered = set(listed)
    ours = [str(n) for n in VmomiSupport.GetServiceVersions("vim25")]
    for name in ours:
        version_id = VmomiSupport.versionIdMap.get(name, "")
        if version_id and version_id in offered:
            return name
    newest = max((v for v in listed if _NUMERIC.fullmatch(v)), key=version_tuple, default="")
    known = [v for v in (VmomiSupport.versionIdMap.get(n, "") for n in ours) if _NUMERIC.fullmatch(v)]
    knows = f"{min(known, key=version_tuple)} to {max(known, key=version_tuple)}" if known else "none"
    theirs = f"up to {newest}" if newest else ", ".join(shown(v) for v in listed[:5])
    raise NoCommonVersion(
        f"the server offers API versions {theirs} ({len(listed)} listed in {where}); "
        f"pyVmomi {version_info_str} knows none of them (it knows {knows})",
        hint="A pyVmomi release that knows this server's API is needed.",
    )
