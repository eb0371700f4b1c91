"""Hostile data and bad input (issue 7 §3): every byte from vCenter, a snapshot, a config file
or a flag is hostile.

The CLI runs every command over a lab whose names hold terminal control sequences and checks
that nothing reaches stdout or stderr raw; then Unicode digits, special and oversized files,
non-UTF-8 input, files written safely, read-only mode for the demo lab and snapshots, closed
pipes, and the audit log of practice runs.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.hostile import PAYLOADS, RAW, RAW_ESC, VISIBLE, hostile_data, name_of, session_name, write_hostile_lab
from tui import audit, config
from tui.__main__ import main
from tui.backends import SnapshotError
from tui.backends.snapshot import SnapshotBackend, read_snapshot, save_inventory
from tui.lookup import natural_key
from tui.model import ChangeOperation, MirrorSession, SessionChange, new_session
from tui.text import SafeText, json_text, visible, visible_lines


def run(capsys: pytest.CaptureFixture[str], *argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    code = main(list(argv), environ=environ or {})
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_raw(*texts: str) -> None:
    for text in texts:
        found = RAW.findall(text)
        assert not found, f"raw control characters reached the terminal: {found[:5]!r}"


# -- visible() ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("vm\x1b]0;pwned\x07", "vm\\x1b]0;pwned\\x07"),
        ("\x1b[2J", "\\x1b[2J"),
        ("a\x9b31m", "a\\x9b31m"),
        ("abc\u202edef", "abc\\u202edef"),
        ("x\u2066y\u2069\u200e\u200f\u061c", "x\\u2066y\\u2069\\u200e\\u200f\\u061c"),
        ("l1\u2028l2\u2029", "l1\\u2028l2\\u2029"),
        ("a\rb\bc\x00d\x7fe\x85", "a\\rb\\x08c\\x00d\\x7fe\\x85"),
        ("two\nlines\tand tab", "two\\nlines\\tand tab"),
        ("F5-LTM01 [prod] CORP\\svc Ünïcödé 名前 ²①", "F5-LTM01 [prod] CORP\\svc Ünïcödé 名前 ²①"),
    ],
)
def test_visible_escapes_every_control_and_keeps_the_rest(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert not RAW_ESC.search(visible(raw))


def test_visible_keeps_names_distinct() -> None:
    names = ["a" + p for p in PAYLOADS] + ["a"]
    assert len({visible(n) for n in names}) == len(names)


def test_visible_lines_keeps_newlines_only() -> None:
    assert visible_lines("one\ntwo\x1b[2J\r") == "one\ntwo\\x1b[2J\\r"


def test_safe_text_shows_what_rich_would_drop() -> None:
    # rich.text.Text drops \r, \b and BEL silently (the name would look like another) and keeps ESC.
    text = SafeText("a\rb")
    text.append("\x07\x1b")
    assert text.plain == "a\\rb\\x07\\x1b"


def test_json_text_escapes_c1_bidi_and_separators_and_means_the_same() -> None:
    data = {"name": "x\x1b\x85\x9b\u202e\u2028\u2066\x7f", "ok": "Ünïcödé 名前"}
    text = json_text(data)
    assert not RAW_ESC.search(text)
    assert "Ünïcödé 名前" in text  # not ASCII-escaped
    assert json.loads(text) == data


# -- the CLI over a hostile lab ------------------------------------------------------------------


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return write_hostile_lab(tmp_path / "hostile.json")


def _commands(lab: Path, tmp_path: Path) -> Iterator[list[str]]:
    data = hostile_data()
    snap = ["--snapshot", str(lab)]
    sw = name_of(data, "switches", "dvSwitchCloud")
    pg = name_of(data, "portgroups", "dvPgDMZ")
    vm = name_of(data, "vms", "F5-LTM01")
    dmz = session_name(data, "DMZ-IDS")
    yield ["ports", *snap]
    yield ["ports", "--switch", sw, "--portgroup", pg, *snap]
    yield ["ports", "--vm", vm, *snap]
    yield ["ports", "--switch", "nope\x1b]0;pwned\x07", *snap]  # unknown: lists the known (hostile) names
    yield ["find", "F5", *snap]
    yield ["find", "LTM", *snap]
    yield ["find", "nothing\x1b[2J\r", *snap]
    yield ["sessions", *snap]
    yield ["sessions", "--switch", sw, *snap]
    new = ["--name", "new\x1b]52;c;cHduZWQ=\x07", "--description", "d\u202e", "--source", "448", "--dest", "2258"]
    yield ["session", "create", "--switch", sw, *new, "--dry-run", *snap]
    yield ["session", "create", "--switch", sw, *new, *snap]
    yield ["session", "create", "--switch", sw, "--source", "F5-LTM01\x9b31m/x", "--dest", "2258", *snap]
    yield ["session", "edit", "--session", dmz, "--description", "\x1b[2J", "--dry-run", *snap]
    yield ["session", "edit", "--session", dmz, "--add-dest", "448", *snap]  # a rule error
    yield ["session", "disable", "--session", dmz, *snap]
    yield ["session", "enable", "--session", dmz, *snap]
    yield ["session", "delete", "--session", dmz, *snap]
    yield ["session", "delete", "--session", "no such\x1b]0;pwned\x07", *snap]
    yield ["session", "verify", "--session", dmz, "--seconds", "1", *snap]  # names in the table and the reasons
    yield ["session", "verify", "--session", "no such\x1b]0;pwned\x07", *snap]
    yield ["session", "verify", "--session", dmz, "--seconds", "\x1b]0;pwned\x07", *snap]  # argparse error
    yield ["session", "create", "--switch", sw, "--length", "\x1b]0;pwned\x07", *snap]  # argparse error
    yield ["snapshot", "save", str(tmp_path / "saved.json"), *snap]
    yield ["ports", "--snapshot", str(tmp_path / "missing\x1b]0;pwned\x07.json")]


def test_every_cli_command_shows_hostile_names_escaped(
    lab: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = ""
    for argv in _commands(lab, tmp_path):
        try:
            code = main(argv, environ={})
        except SystemExit as e:  # argparse
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        assert out or err, argv
        assert_no_raw(out, err)
        assert code in (0, 1, 2), (argv, code, err)
        seen += out + err
    for shown in VISIBLE:
        assert shown in seen, shown


def test_show_config_with_hostile_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[profiles."lab\\u001b[2J"]\ndatacenter = "DC\\u001b]0;pwned\\u0007"\nuser = "a\\u202eb"\n')
    env = {"DVMIRROR_CONFIG": str(cfg), "DVMIRROR_PROFILE": "lab\x1b[2J", "DVMIRROR_KNOWN_HOSTS": "/x\x9b31m"}
    code, out, err = run(capsys, "--show-config", environ=env)
    assert code == 0, err
    assert_no_raw(out, err)
    assert "DC\\x1b]0;pwned\\x07" in out and "a\\u202eb" in out and "/x\\x9b31m" in out


def test_json_output_keeps_names_exact_and_escapes_them(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = hostile_data()
    vm = name_of(data, "vms", "F5-LTM01")
    for argv in (["ports", "--json"], ["find", "F5", "--json"], ["sessions", "--json"]):
        code, out, err = run(capsys, *argv, "--snapshot", str(lab))
        assert code == 0, err
        assert not RAW.search(out)  # JSON escapes C0 itself; C1, DEL and bidi by json_text
        rows = json.loads(out)
        assert rows
        if argv[0] != "sessions":
            assert vm in {r["vm"] for r in rows}  # the exact name, payload included
    code, out, _ = run(capsys, "sessions", "--json", "--snapshot", str(lab))
    assert session_name(data, "DMZ-IDS") in {s["name"] for s in json.loads(out)}


def test_hostile_names_are_kept_exact_in_the_model_and_on_save(lab: Path, tmp_path: Path) -> None:
    backend = SnapshotBackend(lab)
    inv = backend.load()
    vm = name_of(hostile_data(), "vms", "F5-LTM01")
    assert vm in {v.name for v in inv.vms.values()}
    save_inventory(inv, tmp_path / "again.json")
    text = (tmp_path / "again.json").read_text(encoding="utf-8")
    assert not RAW.search(text)  # `cat` of a saved snapshot is harmless too
    assert vm in {v.name for v in SnapshotBackend(tmp_path / "again.json").load().vms.values()}


# -- Unicode digits -----------------------------------------------------------------------------

UNICODE_DIGITS = ("²", "①", "٣", "１", "߀", "⁹")


def test_natural_sort_with_unicode_digits() -> None:
    names = [f"srv{d}" for d in UNICODE_DIGITS] + ["srv10", "srv9", "srv009", "x" + "9" * 5000]
    ordered = sorted(names, key=natural_key)
    assert ordered.index("srv9") < ordered.index("srv10")


def _unicode_lab(tmp_path: Path) -> Path:
    data = hostile_data()
    for i, vm in enumerate(data["vms"]):
        vm["name"] = f"vm{UNICODE_DIGITS[i % len(UNICODE_DIGITS)]}{i}"
    for i, pg in enumerate(data["portgroups"]):
        pg["name"] = f"pg{UNICODE_DIGITS[i % len(UNICODE_DIGITS)]}"
    sw = data["switches"][0]
    sw["configVersion"] = "１２"
    sw["sessions"][0]["key"] = "²"
    sw["sessions"][1]["key"] = "٣"
    path = tmp_path / "digits.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_unicode_digits_in_names_keys_and_versions_do_not_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = str(_unicode_lab(tmp_path))
    for argv in (["ports"], ["sessions"], ["find", "vm²"], ["find", "١"]):
        code, out, err = run(capsys, *argv, "--snapshot", lab)
        assert code in (0, 1), err
        assert "Traceback" not in err
    sw = name_of(hostile_data(), "switches", "dvSwitchCloud")
    code, out, err = run(
        capsys, "session", "create", "--snapshot", lab, "--switch", sw, "--source", "448", "--dest", "2258", "--json"
    )
    result = json.loads(out)
    assert code == 0 and result["ok"], err
    assert result["change"]["session"]["key"] == "1"  # "²" and "٣" are not numbers: the next key is 1
    code, out, err = run(capsys, "session", "delete", "--snapshot", lab, "--session", "²", "--json")
    assert code == 0 and json.loads(out)["ok"], err


@pytest.mark.parametrize("number", ["٦٠", "６０", "6٠", "²", "1_000", "0x3c", " ", "9" * 19])
def test_number_flags_take_ascii_digits_only(number: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["session", "create", "--demo", "--switch", "dvSwitchCloud", "--length", number, "--dry-run"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--length" in err and ("whole number" in err or "too long" in err)
    assert_no_raw(err)


def test_ascii_numbers_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "session", "create", "--demo", "--switch", "dvSwitchCloud", "--source", "448", "--dest", "2258",
        "--length", "60", "--sampling-rate", "1", "--dry-run", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["change"]["session"]["mirroredPacketLength"] == 60, err


@pytest.mark.parametrize("port", ["４４３", "٤٤٣", "443²", "+443", "0x1bb", "99999999999999999999999"])
def test_port_variables_take_ascii_digits_only(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--show-config", environ={"VMWARE_HOST": "vc", "VMWARE_PORT": port})
    assert code == 2 and "VMWARE_PORT" in err and "not a port number" in err


def test_wizard_numbers_take_ascii_digits_only(demo: Any) -> None:
    from tests.conftest import CLOUD
    from tui.sessionform import Form, build

    for bad in ("６０", "٦٠", "²", "1_000"):
        built = build(demo, CLOUD, Form(length_on=True, length=bad), new_session(demo.switches[CLOUD]))
        assert any(p.field == "mirrored_packet_length" for p in built.problems), bad
    built = build(demo, CLOUD, Form(length_on=True, length="60"), new_session(demo.switches[CLOUD]))
    assert built.session.mirrored_packet_length == 60


# -- files: special, huge, deep, not UTF-8 ------------------------------------------------------


def _run_cli(*argv: str, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """dvmirror in a subprocess (a hang fails the test at ``timeout`` instead of stopping it)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tui", *argv], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.json"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "dev-urandom", "directory"])
@pytest.mark.parametrize("where", ["snapshot", "config"])
def test_special_files_are_refused_at_once(kind: str, where: str, fifo: Path, tmp_path: Path) -> None:
    path = {"fifo": str(fifo), "dev-zero": "/dev/zero", "dev-urandom": "/dev/urandom", "directory": str(tmp_path)}[kind]
    argv = ["--snapshot", path] if where == "snapshot" else ["--demo", "--config", path]
    r = _run_cli("ports", *argv)
    assert r.returncode == 2, r.stderr
    assert path in r.stderr and "Traceback" not in r.stderr
    assert ("regular file" in r.stderr) or ("directory" in r.stderr)


def test_known_hosts_and_ca_file_that_are_not_files(fifo: Path) -> None:
    with pytest.raises(config.ConfigError, match="not a regular file"):
        config.read_known_hosts(str(fifo), "vc:443")
    with pytest.raises(config.ConfigError, match="not a regular file"):
        config.read_known_hosts("/dev/zero", "vc:443")
    r = _run_cli("--show-config", "--server", "vc", "--ca-file", str(fifo))
    assert r.returncode == 2 and "CA file" in r.stderr and str(fifo) in r.stderr


def test_huge_snapshot_is_refused_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate((512 << 20) + 1)  # sparse: nothing is written, nothing need be read
    with pytest.raises(SnapshotError, match="too large"):
        read_snapshot(big)


def test_huge_config_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "config.toml"
    big.write_text("# " + "x" * (1 << 20) + "\n")
    with pytest.raises(config.ConfigError, match=r"config file .*config.toml is too large"):
        config.load_config_file(big, required=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"format": "dvmirror-snapshot", "version": ' + b"1" * 5000 + b"}", "5,000 digits"),
        (b'{"format": "dvmirror-snapshot", "version": NaN}', "NaN"),
        (b'{"format": "dvmirror-snapshot", "vcenter": "\xff\xfe"}', "not UTF-8"),
        (b"\x00\x01\x02", "not valid JSON"),
    ],
)
def test_bad_snapshot_contents(
    tmp_path: Path, content: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, _, err = run(capsys, "ports", "--snapshot", str(path))
    assert code == 2 and message in err and str(path) in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a = " + b"[" * 100_000, "nested too deeply"),
        (b"theme = " + b"1" * 5000, "cannot be read"),
        (b'theme = "\xff"', "not UTF-8"),
    ],
)
def test_bad_config_contents(tmp_path: Path, content: bytes, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    code, _, err = run(capsys, "ports", "--demo", "--config", str(path))
    assert code == 2 and message in err and str(path) in err, err


def test_keymap_keys_with_control_characters_are_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[keymap]\nfind = "\\u001b]0;pwned\\u0007"\n')
    with pytest.raises(config.ConfigError, match="keymap.find must be a key name"):
        config.load_config_file(cfg, required=True)


@pytest.mark.parametrize(
    "session",
    [{"sourcePortReceived": {"vlans": ["x"]}}, {"sourcePortReceived": "text"}, {"key": ["1"]}, {"enabled": {}}],
)
def test_malformed_sessions_in_a_snapshot(tmp_path: Path, session: dict[str, Any]) -> None:
    data = hostile_data()
    data["switches"][0]["sessions"] = [session]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    try:
        SnapshotBackend(path).load()
    except SnapshotError as e:
        assert "sessions[0]" in e.message or "session" in e.message


def test_non_utf8_argument_and_variable() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "tui", "find", os.fsdecode(b"\xff\xfe"), "--demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 2 and "not valid UTF-8" in r.stderr and "Traceback" not in r.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DVMIRROR_", "GOVC_", "VMWARE_"))}
    envb = {os.fsencode(k): os.fsencode(v) for k, v in env.items()} | {b"DVMIRROR_SERVER": b"vc\xff"}
    r2 = subprocess.run(
        [sys.executable, "-m", "tui", "--show-config"], cwd=REPO, env=envb, capture_output=True, timeout=30
    )
    assert r2.returncode == 2 and b"DVMIRROR_SERVER is not valid UTF-8" in r2.stderr


# -- files written safely -----------------------------------------------------------------------


def test_snapshot_save_never_follows_a_planted_temporary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    target = tmp_path / "out.json"
    (tmp_path / "out.json.tmp").symlink_to(victim)  # the old, predictable temporary name
    code, _, err = run(capsys, "snapshot", "save", str(target), "--demo")
    assert code == 0, err
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "out.json.tmp").is_symlink()  # left alone, not reused
    assert json.loads(target.read_text())["format"] == "dvmirror-snapshot"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.json.tmp", "victim"]  # no leftovers


def test_snapshot_save_over_a_symlink_replaces_the_link_not_its_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    target = tmp_path / "out.json"
    target.symlink_to(victim)
    code, _, err = run(capsys, "snapshot", "save", str(target), "--demo", "--force")
    assert code == 0, err
    assert victim.read_text() == "precious\n" and not target.is_symlink()


def test_snapshot_save_failure_leaves_no_temporary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _, err = run(capsys, "snapshot", "save", str(folder / "x.json"), "--demo")
        if os.geteuid() != 0:
            assert code == 2 and "cannot write" in err
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    finally:
        folder.chmod(0o700)


def _change() -> dict[str, Any]:
    s = MirrorSession(name="x\x1b]0;pwned\x07", session_type="dvPortMirror")
    return {
        "user": "u",
        "vcenter": "vc",
        "switch": "sw\u202e",
        "changes": [SessionChange(ChangeOperation.ADD, s)],
        "result": "ok",
    }


def test_audit_log_is_0600_and_escapes_names(tmp_path: Path) -> None:
    path = tmp_path / "state" / "audit.jsonl"
    assert audit.AuditLog(path).record(**_change()) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert not RAW.search(text)
    assert audit.AuditLog(path).entries()[0]["switch"] == "sw\u202e"


def test_audit_log_does_not_write_through_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    path = tmp_path / "audit.jsonl"
    path.symlink_to(victim)
    message = audit.AuditLog(path).record(**_change())
    assert message is not None and "symbolic link" in message and str(path) in message
    assert victim.read_text() == "precious\n"


def test_audit_log_that_is_a_fifo_does_not_hang(fifo: Path) -> None:
    message = audit.AuditLog(fifo).record(**_change())
    assert message is not None and str(fifo) in message


def test_audit_log_in_an_unwritable_place_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    message = audit.AuditLog(blocker / "sub" / "audit.jsonl").record(**_change())
    assert message is not None and "not recorded" in message


# -- practice runs and the audit log ------------------------------------------------------------


def test_demo_changes_do_not_reach_the_audit_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "real-audit.jsonl"
    monkeypatch.setenv("DVMIRROR_AUDIT_LOG", str(log))
    monkeypatch.delenv("DVMIRROR_PRACTICE_LOG", raising=False)
    argv = ["session", "create", "--switch", "dvSwitchCloud", "--source", "448", "--dest", "2258"]
    code, _, err = run(capsys, *argv, "--demo")
    assert code == 0, err
    snap = write_hostile_lab(tmp_path / "lab.json")
    sw = name_of(hostile_data(), "switches", "dvSwitchCloud")
    code, _, err = run(capsys, "session", "create", "--switch", sw, "--source", "448", "--dest", "2258",
                       "--snapshot", str(snap))  # fmt: skip
    assert code == 0, err
    assert not log.exists()
    practice = tmp_path / "practice.jsonl"
    monkeypatch.setenv("DVMIRROR_PRACTICE_LOG", str(practice))
    code, _, err = run(capsys, *argv, "--demo")
    assert code == 0 and not log.exists()
    [entry] = audit.AuditLog(practice).entries()
    assert entry["vcenter"] == "vcsa01.lab.local (demo lab)" and entry["result"] == "ok"


# -- read-only for the demo lab and snapshots ---------------------------------------------------

DISABLE = ["session", "disable", "--session", "DMZ-IDS", "--json"]


@pytest.mark.parametrize("source", ["--demo", "--snapshot"])
def test_read_only_variable_holds_for_demo_and_snapshots(
    source: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = [source] if source == "--demo" else [source, str(_demo_copy(tmp_path))]
    code, out, _ = run(capsys, *DISABLE, *src, environ={"DVMIRROR_READ_ONLY": "1"})
    result = json.loads(out)
    assert code == 1 and not result["sent"]
    [problem] = [p for p in result["problems"] if p["code"] == "ReadOnly"]
    assert "DVMIRROR_READ_ONLY" in problem["message"]
    code, out, _ = run(capsys, *DISABLE, *src, "--no-read-only", environ={"DVMIRROR_READ_ONLY": "1"})
    assert code == 0 and json.loads(out)["sent"]


def _demo_copy(tmp_path: Path) -> Path:
    from tests import labgen

    path = tmp_path / "demo-copy.json"
    labgen.write(labgen.demo_lab(), path)
    return path


def test_read_only_profile_holds_for_the_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('default_profile = "prod"\n[profiles.prod]\nurl = "vc.example"\nread_only = true\n')
    code, out, _ = run(capsys, *DISABLE, "--demo", environ={"DVMIRROR_CONFIG": str(cfg)})
    result = json.loads(out)
    assert code == 1 and not result["sent"]
    message = next(p["message"] for p in result["problems"] if p["code"] == "ReadOnly")
    assert "profile 'prod'" in message and str(cfg) in message
    code, out, err = run(capsys, *DISABLE[:-1], "--demo", environ={"DVMIRROR_CONFIG": str(cfg)})
    assert "profile 'prod'" in out + err


def test_read_only_flag_names_itself(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *DISABLE, "--demo", "--read-only")
    message = next(p["message"] for p in json.loads(out)["problems"] if p["code"] == "ReadOnly")
    assert code == 1 and "--read-only" in message


# -- closed pipes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["ports", "--json", "--demo"],
        ["ports", "--demo"],
        ["sessions", "--demo"],
        ["find", "a", "--json", "--demo"],
        ["session", "create", "--demo", "--switch", "dvSwitchCloud", "--dry-run"],
        ["--show-config"],
        ["--help"],
    ],
)
def test_output_to_a_closed_pipe_ends_quietly(argv: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte, as after `head -1`
    proc = subprocess.run(
        [sys.executable, "-m", "tui", *argv], cwd=REPO, stdout=write_end, stderr=subprocess.PIPE, timeout=30
    )
    os.close(write_end)
    assert proc.stderr == b""  # no traceback, no "Exception ignored"
    # 128 + SIGPIPE, as the shell reports for a killed writer; argparse's help printer ignores
    # a failed write by itself and exits 0.
    assert proc.returncode == (0 if argv == ["--help"] else 141)


def test_ports_json_into_head() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "ports", "--json", "--demo"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"[\n"
    proc.stdout.close()  # `| head -1`: 100 kB do not fit in the pipe
    err = proc.stderr.read()
    assert proc.wait(timeout=30) == 141 and err == b""
