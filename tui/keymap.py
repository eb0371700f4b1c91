"""Binding ids: one scheme, ``<screen>.<action>``, and what config.toml's ``[keymap]`` asks of them.

Every key binding an operator may remap has an id made of the screen it belongs to and its
action: ``app.quit``, ``explorer.find``, ``sessions.new``, ``wizard.review``, ``find.close``. The
screens are ``app`` (keys that work everywhere), ``explorer``, ``copy``, ``sessions``, ``confirm_delete``,
``wizard``, ``capture``, ``verify``, ``verify_offer``, ``export``, ``confirm``, ``find``, ``help``, ``error``,
``password`` and ``confirm_quit``.
In config.toml an id is a TOML dotted key, so both of these remap the find key::

    [keymap]
    explorer.find = "slash,f"

    [keymap.explorer]
    find = "slash,f"

The ids of dvmirror 0.1.0 mixed styles (``find``, ``session_new``, ``sessions_back``,
``wizard_review``, ``close``). :data:`RENAMED` keeps each old id working for one more release,
with a note saying the new one; :func:`resolve_keymap` turns a config.toml keymap into the one
the app sets and says what it could not use, as an unknown theme is reported.

Nothing here imports Textual: the app passes in the ids its bindings carry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

RENAMED: Mapping[str, tuple[str, ...]] = {
    "quit": ("app.quit",),
    "help": ("app.help",),
    "find": ("explorer.find",),
    "mark_source": ("explorer.mark_source",),
    "mark_dest": ("explorer.mark_dest",),
    "clear_marks": ("explorer.clear_marks",),
    "copy": ("explorer.copy",),
    "mirror": ("explorer.mirror",),
    "sessions": ("explorer.sessions",),
    "refresh": ("explorer.refresh",),
    "sessions_back": ("sessions.back",),
    "session_new": ("sessions.new",),
    "session_edit": ("sessions.edit",),
    "session_clone": ("sessions.clone",),
    "session_toggle": ("sessions.toggle",),
    "session_delete": ("sessions.delete",),
    "session_copy_filter": ("sessions.copy_filter",),
    "sessions_switch": ("sessions.next_switch",),
    "confirm_cancel": ("confirm_delete.cancel",),
    "wizard_back": ("wizard.back",),
    "wizard_review": ("wizard.review",),
    "wizard_copy_filter": ("wizard.copy_filter",),
    "password_cancel": ("password.cancel",),
    "close": ("help.close", "find.close", "error.close"),
}
"""Old (0.1.0) binding id → the new id(s); ``close`` was shared by three screens. Deprecated:
accepted, with a note, for one more release."""


def resolve_keymap(keymap: Mapping[str, str], known: Collection[str]) -> tuple[dict[str, str], list[str]]:
    """``(keymap to set, notes)`` for a ``[keymap]`` of config.toml and the ids the app has.

    An old id (:data:`RENAMED`) stands for its new ones unless the new one is given too (the new
    one wins); each old id gives a note saying its new name. Ids that are neither known nor old
    are left out with one note listing them and the known ids, as for an unknown theme.
    """
    given = {binding_id: keys for binding_id, keys in keymap.items() if binding_id in known}
    result = dict(given)
    notes: list[str] = []
    unknown: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id in known:
            continue
        if binding_id in RENAMED:
            new = RENAMED[binding_id]
            for target in new:
                if target in known and target not in given:
                    result[target] = keys
            notes.append(
                f"keymap id {binding_id!r} in config.toml is an old name and goes in the next release; "
                f"use {' and '.join(repr(t) for t in new)}"
            )
        else:
            unknown.append(binding_id)
    if unknown:
        ids = ", ".join(repr(u) for u in unknown)
        plural = "s" if len(unknown) > 1 else ""
        notes.insert(0, f"Unknown keymap id{plural} {ids} in config.toml; known: {', '.join(sorted(known))}")
    return result, notes
