"""Guard rails: sessions vCenter accepts that hurt the network or will not survive hardening.

Each rule names its evidence in a comment. vCenter takes these sessions without a fault, so the
codes are the app's own (:data:`GUARD_CODES`); a guard is an error (the wizard and the CLI refuse
the change) only where the evidence says the session does harm, otherwise a warning.
Pure Python: no Textual, no pyVmomi.
"""

from __future__ import annotations

import json
from collections.abc import Collection

from tui.model import ConnecteeType, MirrorSession, SessionType
from tui.rules_base import Findings, SwitchView, effective_type, join, session_text, uniq

GUARD_CODES: dict[str, str] = {
    "VmkernelSourceLoop": "An Encapsulated Remote Mirroring (L3) Source session mirrors a VMkernel port: if it is "
    "the vmk that sends the encapsulated copies, every copy is mirrored again until the uplink saturates "
    "(Broadcom KB 327931).",
    "NsxPort": "A port of an NSX-backed portgroup (an NSX segment): NSX's own port mirroring applies to it "
    '(vSphere API: PortCriteria.nsxPort, "NSX ports are ports of NSX port group").',
    "NotOnAllowList": "The session's name is not on config.toml's allowed_sessions: a STIG hardening run "
    "(VCSA-80-000300, VCFA-9X-000340; its vcenter_portMirrorSessions input) flags it for removal.",
}
"""Guard codes with what each means (their ``field`` is the session attribute concerned)."""

MIRROR_NETSTACK = "mirror"
"""The TCP/IP stack vSphere 6.7 added for mirrored traffic (``netstack``; KB 327931's workaround)."""


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _vmkernel_sources(ctx: SwitchView, s: MirrorSession) -> list[str]:
    """The session's source ports that a host's VMkernel interface is connected to."""
    keys = uniq([*s.source_rx.port_keys, *s.source_tx.port_keys])
    out = []
    for key in keys:
        port = ctx.port(key)
        if port is not None and port.connectee is not None and port.connectee.type is ConnecteeType.HOST_VMK_VNIC:
            out.append(key)
    return out


def _guard_vmkernel(ctx: SwitchView, s: MirrorSession, out: Findings) -> None:
    if effective_type(s) is not SessionType.ENCAPSULATED_REMOTE_MIRROR_SOURCE:
        # KB 327931 names only the L3 type: RSPAN copies leave by an uplink, not through a VMkernel
        # interface, and the other types stay on the switch.
        return
    vmks = _vmkernel_sources(ctx, s)
    if not vmks:
        return
    ports = join(ctx.port_ref(k) for k in vmks)
    if not s.enabled:
        # A disabled session mirrors nothing: it can be kept, disabled or removed, never refused.
        out.warn(
            "VmkernelSourceLoop",
            "enabled",
            f"{_cap(session_text(s))} mirrors VMkernel {ports} with Encapsulated Remote Mirroring (L3): enabled, "
            "it could mirror its own encapsulated copies until the uplink saturates (Broadcom KB 327931).",
        )
        return
    if s.netstack == MIRROR_NETSTACK:
        # KB 327931: since 6.7 the "mirror" TCP/IP stack sends the copies; a loop remains only if
        # the mirrored vmk is that stack's own interface, which the inventory does not show.
        out.warn(
            "VmkernelSourceLoop",
            "netstack",
            f"{_cap(session_text(s))} mirrors VMkernel {ports}. The mirror TCP/IP stack sends its "
            "encapsulated copies, so make sure that port's vmk is not on the mirror stack: if it is, every copy "
            "is mirrored again until the uplink saturates (Broadcom KB 327931).",
        )
        return
    # KB 327931: the host encapsulates the copies through the vmk its routing table picks for the
    # destination IP; when the mirrored port is that vmk, the copies are mirrored again and again
    # until the physical uplink saturates.
    out.error(
        "VmkernelSourceLoop",
        "source_rx" if any(k in s.source_rx.port_keys for k in vmks) else "source_tx",
        f"{_cap(session_text(s))} mirrors VMkernel {ports} with Encapsulated Remote Mirroring (L3): "
        "the host sends the encapsulated copies through a VMkernel interface, and when it is this one every "
        "copy is mirrored again until the uplink saturates (Broadcom KB 327931). Mirror VM ports instead, "
        f"or send the copies on the mirror TCP/IP stack (netstack {MIRROR_NETSTACK!r}, vSphere 6.7 and later).",
    )


def _guard_nsx(ctx: SwitchView, s: MirrorSession, out: Findings) -> None:
    # The API reference of PortCriteria.nsxPort (7.0): "NSX ports are ports of NSX port group",
    # a portgroup whose config.backingType is "nsx". NSX manages those ports, segment by segment,
    # and mirrors them with its own port mirroring profiles (NSX Manager), not the switch's VSPAN.
    for fld, keys in (
        ("source_rx", s.source_rx.port_keys),
        ("source_tx", s.source_tx.port_keys),
        ("destination", s.destination.port_keys),
    ):
        nsx = [k for k in uniq(keys) if (pg := ctx.portgroup(ctx.port(k))) is not None and pg.nsx]
        if nsx:
            pgs = uniq(pg.name for k in nsx if (pg := ctx.portgroup(ctx.port(k))) is not None)
            out.warn(
                "NsxPort",
                fld,
                f"{_cap(join(ctx.port_ref(k) for k in nsx))} {'is an NSX port' if len(nsx) == 1 else 'are NSX ports'} "
                f"(portgroup {join(pgs)} is backed by an NSX segment): NSX port mirroring applies to "
                f"{'it' if len(nsx) == 1 else 'them'} instead. Set the mirroring up in NSX Manager "
                "(Plan & Troubleshoot, Port Mirroring).",
            )


def _guard_allow_list(s: MirrorSession, allow_list: Collection[str], out: Findings) -> None:
    # The STIG's check (VCSA-80-000300; VCFA-9X-000340 in VMware's dod-compliance-and-automation
    # InSpec profile) lists every session by name and fails each one not in the
    # vcenter_portMirrorSessions input, compared exactly; its fix is to remove the session.
    if s.name in allow_list:
        return
    name = f"name {s.name!r}" if s.name else "no name"
    out.warn(
        "NotOnAllowList",
        "name",
        f"{_cap(session_text(s))} has {name}, which is not in allowed_sessions: a STIG hardening run "
        "(VCSA-80-000300) with that allow-list would flag it for removal. Use an allowed name, or add it "
        "(`dvmirror sessions --allow-list` prints the list in the STIG's input form).",
    )


def guard_session(ctx: SwitchView, s: MirrorSession, out: Findings, allow_list: Collection[str] | None = None) -> None:
    """The guard rails of one session (``allow_list``: config.toml's ``allowed_sessions``, if set)."""
    _guard_vmkernel(ctx, s, out)
    _guard_nsx(ctx, s, out)
    if allow_list is not None:
        _guard_allow_list(s, allow_list, out)


STIG_INPUT = "vcenter_portMirrorSessions"
"""The input of VMware's vSphere STIG automation (dod-compliance-and-automation, InSpec profile,
control VCFA-9X-000340; VCSA-80-000300 in 8.0) that lists authorized sessions by name."""


def stig_inputs(vcenter: str, names: Collection[str]) -> str:
    """``names`` as the STIG automation's YAML inputs file has them, with where they came from."""
    from tui.text import visible

    lines = [
        f"# Port mirroring sessions on {visible(vcenter)} (dvmirror sessions --allow-list), in the form of the",
        "# vSphere STIG automation's inputs (VCFA-9X-000340 / VCSA-80-000300): the sessions allowed by name.",
        "# Review before use: a hardening run flags every session not listed. The same names can go in",
        "# dvmirror's config.toml as allowed_sessions.",
    ]
    if not names:
        return "\n".join([*lines, f"{STIG_INPUT}: []", ""])
    # JSON strings are YAML double-quoted scalars: every character, hostile or not, comes back as it was.
    return "\n".join([*lines, f"{STIG_INPUT}:", *(f"  - {json.dumps(n)}" for n in names), ""])
