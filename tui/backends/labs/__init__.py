"""The bundled labs: ``demo.json`` (DESIGN.md §6) and, made from it, the lab as it is before the walkthrough.

:func:`walkthrough` turns the demo lab's JSON into the lab an operator has before the walkthrough's
first step (port-mirroring-walkthrough.txt, "Port Mirroring – VMware dvSwitch Configuration"): there is
no dvPgMirror yet. Its portgroup becomes ``dvPgStaging`` on VLAN 299 (same key, same ports), so
MGTSRVR003UX's Network adapter 2 is on port 2258 of dvPgStaging, without a guest address (the
walkthrough gives it one after step 3), and no session exists. ``dvmirror --walkthrough`` starts it.
"""

from __future__ import annotations

from typing import Any

WALKTHROUGH = "walkthrough"
STAGING = "dvPgStaging"
STAGING_VLAN = 299


def walkthrough(data: dict[str, Any]) -> dict[str, Any]:
    """The demo lab's JSON (changed in place and returned) as before the walkthrough: no dvPgMirror, no session."""
    mirror = next((pg for pg in data.get("portgroups", ()) if pg.get("name") == "dvPgMirror"), None)
    if mirror is not None:
        mirror["name"] = STAGING
        mirror["vlan"] = {"id": STAGING_VLAN}
    for sw in data.get("switches", ()):
        sw["sessions"] = []
    for vm in data.get("vms", ()):
        if vm.get("name") == "MGTSRVR003UX" and mirror is not None:
            for nic in vm.get("nics", ()):
                if nic.get("portgroup") == mirror["key"]:
                    nic["ips"] = []
    return data
