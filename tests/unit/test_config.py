"""Connection settings: precedence, govc/VMware conventions, the profile file, errors."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from tui import config, setting_table
from tui.config import ConfigError, Settings, add_connection_arguments, resolve_settings


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never read the developer's real config.toml."""
    monkeypatch.setattr(config, "default_config_path", lambda: tmp_path / "absent" / "config.toml")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    return parser.parse_args(list(argv))


def resolve(*argv: str, env: dict[str, str] | None = None) -> Settings:
    return resolve_settings(parse(*argv), env or {})


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


PROFILE = """
default_profile = "lab"
theme = "textual-light"

[profiles.lab]
url = "profile-vc.lab.local"
user = "profile-user"
datacenter = "DC-Profile"
read_only = true
insecure = true
thumbprint = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01"

[profiles.prod]
url = "https://vc-prod.example.com:8443/sdk"
user = "ops@vsphere.local"
ca_file = "/etc/ssl/prod-ca.pem"

[keymap]
mark_source = "S"
find = "ctrl+f"
"""


# -- defaults and parsing ---------------------------------------------------------------------


def test_nothing_given_gives_safe_defaults() -> None:
    s = resolve()
    assert s.server == ""
    assert s.insecure is False
    assert s.read_only is False
    assert s.port == 443
    assert s.source("insecure") == "default"


@pytest.mark.parametrize(
    ("text", "url", "port"),
    [
        ("vc.lab.local", "https://vc.lab.local/sdk", 443),
        ("vc.lab.local:8989", "https://vc.lab.local:8989/sdk", 8989),
        ("https://vc.lab.local/sdk", "https://vc.lab.local/sdk", 443),
        ("http://127.0.0.1:8989/sdk", "http://127.0.0.1:8989/sdk", 8989),
        ("https://vc.lab.local/custom", "https://vc.lab.local/custom", 443),
        ("[::1]:8443", "https://[::1]:8443/sdk", 8443),
    ],
)
def test_server_forms(text: str, url: str, port: int) -> None:
    s = resolve("--server", text)
    assert s.url == url
    assert s.port == port
    assert s.source("server") == "--server"


def test_govc_url_with_user_and_percent_encoded_password() -> None:
    s = resolve(env={"GOVC_URL": "administrator%40vsphere.local:p%40ss%3Aw%2Frd@vc.lab.local"})
    assert s.server == "vc.lab.local"
    assert s.user == "administrator@vsphere.local"
    assert s.password == "p@ss:w/rd"
    assert s.url == "https://vc.lab.local/sdk"
    assert s.source("password") == "GOVC_URL"


def test_govc_username_and_password_beat_the_url_ones() -> None:
    env = {"GOVC_URL": "u1:p1@vc", "GOVC_USERNAME": "u2", "GOVC_PASSWORD": "p2"}
    s = resolve(env=env)
    assert (s.user, s.password) == ("u2", "p2")
    assert s.source("user") == "GOVC_USERNAME"


def test_password_never_in_repr_or_explain() -> None:
    s = resolve("--server", "u:s3cret@vc")
    assert "s3cret" not in repr(s)
    assert "s3cret" not in str(s.explain())
    assert ("password", "(set)", "--server") in s.explain()


# -- precedence ------------------------------------------------------------------------------


def test_flags_beat_dvmirror_beat_govc_beat_vmware_beat_profile(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, PROFILE)
    env = {
        "DVMIRROR_CONFIG": str(cfg),
        "DVMIRROR_SERVER": "dvm-vc",
        "DVMIRROR_DATACENTER": "DC-Dvm",
        "GOVC_URL": "govc-vc",
        "GOVC_USERNAME": "govc-user",
        "GOVC_DATACENTER": "DC-Govc",
        "GOVC_INSECURE": "0",
        "VMWARE_HOST": "vmware-vc",
        "VMWARE_USER": "vmware-user",
        "VMWARE_PASSWORD": "vmware-pass",
        "VMWARE_VALIDATE_CERTS": "false",
    }
    s = resolve("--server", "flag-vc", env=env)
    assert s.server == "flag-vc" and s.source("server") == "--server"
    assert s.datacenter == "DC-Dvm" and s.source("datacenter") == "DVMIRROR_DATACENTER"
    assert s.user == "govc-user" and s.source("user") == "GOVC_USERNAME"
    assert s.password == "vmware-pass" and s.source("password") == "VMWARE_PASSWORD"
    # GOVC_INSECURE=0 beats VMWARE_VALIDATE_CERTS=false and the profile's insecure = true.
    assert s.insecure is False and s.source("insecure") == "GOVC_INSECURE"
    # Nothing above the profile sets read_only or the thumbprint.
    assert s.read_only is True and s.source("read_only").startswith("profile 'lab'")
    assert s.thumbprint.startswith("AB:CD:EF:01")

    s = resolve(env={k: v for k, v in env.items() if not k.startswith("DVMIRROR_SERVER")})
    assert s.server == "govc-vc"
    s = resolve(env={k: v for k, v in env.items() if k not in ("DVMIRROR_SERVER", "GOVC_URL")})
    assert s.server == "vmware-vc" and s.user == "govc-user"
    s = resolve(env={"DVMIRROR_CONFIG": str(cfg)})
    assert s.server == "profile-vc.lab.local" and s.user == "profile-user"
    assert s.source("server") == f"profile 'lab' ({cfg})"


def test_user_flag_beats_user_inside_server_flag() -> None:
    s = resolve("--server", "inurl@vc", "--user", "explicit", env={"DVMIRROR_USER": "envuser"})
    assert s.user == "explicit"
    s = resolve("--server", "inurl@vc", env={"DVMIRROR_USER": "envuser"})
    assert s.user == "inurl" and s.source("user") == "--server"


def test_dvmirror_variables() -> None:
    env = {
        "DVMIRROR_SERVER": "vc:9443",
        "DVMIRROR_USER": "me",
        "DVMIRROR_PASSWORD": "pw",
        "DVMIRROR_INSECURE": "true",
        "DVMIRROR_READ_ONLY": "yes",
        "DVMIRROR_CA_FILE": "/tmp/ca.pem",
        "DVMIRROR_THUMBPRINT": "00" * 20,
    }
    s = resolve(env=env)
    assert (s.server, s.port, s.user, s.password) == ("vc", 9443, "me", "pw")
    assert s.insecure and s.read_only
    assert s.ca_file == "/tmp/ca.pem"
    assert s.thumbprint == ":".join(["00"] * 20)


@pytest.mark.parametrize(
    ("value", "insecure"), [("false", True), ("False", True), ("0", True), ("true", False), ("1", False)]
)
def test_vmware_validate_certs(value: str, insecure: bool) -> None:
    s = resolve(env={"VMWARE_HOST": "vc", "VMWARE_VALIDATE_CERTS": value})
    assert s.insecure is insecure
    assert s.source("insecure") == "VMWARE_VALIDATE_CERTS"


def test_vmware_port() -> None:
    s = resolve(env={"VMWARE_HOST": "vc", "VMWARE_PORT": "8443"})
    assert s.url == "https://vc:8443/sdk"


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes"])
def test_govc_insecure_true(value: str) -> None:
    assert resolve(env={"GOVC_INSECURE": value}).insecure is True


def test_govc_tls_variables() -> None:
    s = resolve(env={"GOVC_TLS_CA_CERTS": "/a.pem:/b.pem", "GOVC_TLS_KNOWN_HOSTS": "/kh", "GOVC_DATACENTER": "DC"})
    assert s.ca_file == "/a.pem:/b.pem"
    assert s.known_hosts == "/kh"
    assert s.datacenter == "DC"


def test_no_insecure_flag_overrides_environment() -> None:
    s = resolve("--no-insecure", env={"GOVC_INSECURE": "1"})
    assert s.insecure is False and s.source("insecure") == "--insecure"
    s = resolve("--read-only")
    assert s.read_only is True and s.source("read_only") == "--read-only"


def test_an_overridden_bad_value_is_ignored() -> None:
    s = resolve("--insecure", env={"GOVC_INSECURE": "maybe"})
    assert s.insecure is True


# -- profiles --------------------------------------------------------------------------------


def test_profile_file_parsing(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, PROFILE)
    s = resolve("--config", str(cfg), "--profile", "prod")
    assert s.profile == "prod" and s.source("profile") == "--profile"
    assert s.url == "https://vc-prod.example.com:8443/sdk"
    assert s.user == "ops@vsphere.local"
    assert s.ca_file == "/etc/ssl/prod-ca.pem"
    assert s.read_only is False and s.insecure is False
    assert s.keymap == {"mark_source": "S", "find": "ctrl+f"}
    assert s.theme == "textual-light"
    assert s.config_file == str(cfg)
    assert ("config_file", str(cfg), "--config") in s.explain()
    assert ("keymap.find", "ctrl+f", str(cfg)) in s.explain()


def test_default_profile_and_dvmirror_profile(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, PROFILE)
    s = resolve("--config", str(cfg))
    assert s.profile == "lab" and s.datacenter == "DC-Profile" and s.insecure is True
    s = resolve("--config", str(cfg), env={"DVMIRROR_PROFILE": "prod"})
    assert s.profile == "prod" and s.source("profile") == "DVMIRROR_PROFILE"


def test_default_config_location_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_config(tmp_path, PROFILE)
    monkeypatch.setattr(config, "default_config_path", lambda: cfg)
    assert resolve().server == "profile-vc.lab.local"


def test_password_in_config_is_refused(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, '[profiles.lab]\nurl = "vc"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError, match="never reads passwords from files") as err:
        resolve("--config", str(cfg))
    assert "hunter2" not in str(err.value)
    cfg = write_config(tmp_path, 'password = "x"\n')
    with pytest.raises(ConfigError, match="password"):
        resolve("--config", str(cfg))


def test_password_inside_profile_url_is_refused(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, '[profiles.lab]\nurl = "root:hunter2@vc"\n')
    with pytest.raises(ConfigError, match="contains a password") as err:
        resolve("--config", str(cfg))
    assert "hunter2" not in str(err.value)


def test_malformed_toml(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "[profiles.lab\nurl = ")
    with pytest.raises(ConfigError, match=r"is not valid TOML"):
        resolve("--config", str(cfg))


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, PROFILE)
    with pytest.raises(ConfigError, match=r"unknown profile 'nope' \(from --profile\).*lab, prod"):
        resolve("--config", str(cfg), "--profile", "nope")


def test_unknown_profile_without_a_file() -> None:
    with pytest.raises(ConfigError, match="unknown profile 'lab'.*profiles in .*: none"):
        resolve("--profile", "lab")


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve("--config", str(tmp_path / "nope.toml"))


def test_unreadable_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        resolve("--config", str(tmp_path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[profiles.lab]\nusr = "x"\n', "unknown setting 'usr'"),
        ("[profiles.lab]\nread_only = 1\n", "read_only must be true or false"),
        ("default_profile = 3\n", "default_profile must be text"),
        ("servers = []\n", "unknown setting 'servers'"),
        ("[keymap]\nfind = 1\n", "keymap.find must be a key name"),
    ],
)
def test_bad_config_values(tmp_path: Path, text: str, message: str) -> None:
    cfg = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        resolve("--config", str(cfg))


# -- bad values ------------------------------------------------------------------------------


def test_bad_boolean_names_its_source() -> None:
    with pytest.raises(ConfigError) as err:
        resolve(env={"GOVC_INSECURE": "maybe"})
    assert str(err.value) == "GOVC_INSECURE='maybe' is not a boolean (use 1/0, true/false)"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VMWARE_HOST": "vc", "VMWARE_PORT": "http"}, "VMWARE_PORT='http' is not a port number"),
        ({"VMWARE_HOST": "vc", "VMWARE_PORT": "70000"}, "VMWARE_PORT='70000' is not a port number"),
        ({"GOVC_URL": "vc:99999"}, "GOVC_URL='vc:99999' is not a valid URL"),
        ({"GOVC_URL": "ftp://vc"}, "the scheme must be https"),
        ({"DVMIRROR_THUMBPRINT": "12:34"}, "DVMIRROR_THUMBPRINT='12:34' is not a certificate thumbprint"),
        ({"DVMIRROR_READ_ONLY": "sometimes"}, "DVMIRROR_READ_ONLY='sometimes' is not a boolean"),
    ],
)
def test_bad_environment_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(env=env)


def test_bad_url_message_masks_the_password() -> None:
    with pytest.raises(ConfigError) as err:
        resolve("--server", "root:hunter2@vc:notaport")
    assert "hunter2" not in str(err.value)
    assert "--server" in str(err.value)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


# -- known hosts and keyring -----------------------------------------------------------------


def test_known_hosts_file(tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    kh.write_text(
        "other.lab 11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11\n"
        "vc.lab ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab\n"
        "vc.lab:8443 CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD\n",
        encoding="utf-8",
    )
    files = f"{tmp_path / 'missing'}:{kh}"
    assert config.read_known_hosts(files, "vc.lab:443") == ":".join(["AB"] * 20)
    assert config.read_known_hosts(files, "vc.lab:8443") == ":".join(["CD"] * 20)
    assert config.read_known_hosts(files, "nowhere:443") == ""


def test_keyring_fills_a_missing_password(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    asked: list[tuple[str, str]] = []

    def get_password(service: str, name: str) -> str | None:
        asked.append((service, name))
        return "from-keyring" if name == "me@vc" else None

    monkeypatch.setitem(sys.modules, "keyring", types.SimpleNamespace(get_password=get_password))
    s = config.keyring_password(resolve("--server", "vc", "--user", "me"))
    assert s.password == "from-keyring" and s.source("password") == "OS keyring"
    assert asked == [("dvmirror", "me@vc")]
    # A password already given wins; an unknown entry changes nothing.
    given = resolve("--server", "vc", "--user", "me", "--password", "typed")
    assert config.keyring_password(given) is given
    other = resolve("--server", "vc", "--user", "you")
    assert config.keyring_password(other) is other


def test_keyring_failures_and_absence_are_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    def broken(service: str, name: str) -> str:
        raise RuntimeError("no keyring backend")

    s = resolve("--server", "vc", "--user", "me")
    monkeypatch.setitem(sys.modules, "keyring", types.SimpleNamespace(get_password=broken))
    assert config.keyring_password(s) is s
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    assert config.keyring_password(s) is s


def test_with_password() -> None:
    s = resolve("--server", "vc", "--user", "me")
    assert s.needs_password
    t = s.with_password("typed")
    assert t.password == "typed" and t.source("password") == "prompt" and not t.needs_password


def test_config_imports_neither_textual_nor_pyvmomi() -> None:
    code = "import sys, tui.config; print(any(m.split('.')[0] in ('textual', 'pyVmomi', 'pyVim') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_importing_the_vsphere_backend_is_cheap() -> None:
    code = (
        "import sys, tui.backends.vsphere; "
        "print(any(m.split('.')[0] in ('pyVmomi', 'pyVim', 'textual') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_password_prompt_without_a_user() -> None:
    from tui.config import Settings

    assert Settings(server="vc", user="u").needs_password
    assert not Settings(server="vc").needs_password  # nobody to log in as: say so, do not ask
    assert not Settings(server="vc", user="u", password="p").needs_password


def test_preferences_read_only_keymap_and_theme(tmp_path: Path) -> None:
    import argparse

    from tui.config import preferences

    cfg = tmp_path / "config.toml"
    cfg.write_text('theme = "nord"\n[keymap]\nfind = "f"\n[profiles.x]\nurl = "vc"\n', encoding="utf-8")
    keymap, theme = preferences(argparse.Namespace(config=str(cfg)), {"GOVC_URL": "::broken::"})
    assert keymap == {"find": "f"} and theme == "nord"


# -- one table of settings ----------------------------------------------------------------------


def _readme_configuration() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    return readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]


def test_readme_lists_every_flag_and_variable_of_the_table() -> None:
    import re

    section = _readme_configuration()
    named = {s.flag for s in setting_table.SETTINGS} | {
        v for s in setting_table.SETTINGS for v in (s.dvmirror, s.govc, s.vmware, s.vmware_port) if v
    }
    for name in named:
        assert f"`{name}" in section, name
    mentioned = set(re.findall(r"\b(?:DVMIRROR|GOVC|VMWARE)_[A-Z_]+", section))
    assert mentioned == {n for n in named if not n.startswith("--")} | {"DVMIRROR_PROFILE", "DVMIRROR_CONFIG"}


@pytest.mark.parametrize("setting", setting_table.SETTINGS, ids=lambda s: s.name)
def test_show_config_names_the_variable_each_setting_came_from(setting: setting_table.Setting) -> None:
    value = {"server": "vc", "insecure": "1", "read_only": "1", "live": "0", "thumbprint": "ab" * 20, "timeout": "7"}
    text = value.get(setting.name, "x")
    for var in (setting.dvmirror, setting.govc, setting.vmware):
        if not var:
            continue
        env = {var: "false" if setting.vmware_negated and var == setting.vmware else text}
        rows = {name: source for name, _, source in resolve(env=env).explain()}
        assert rows[setting.name] == var, (var, rows)


def test_profile_layer_covers_every_profile_key(tmp_path: Path) -> None:
    values = {
        "url": '"vc"',
        "read_only": "true",
        "live": "false",
        "insecure": "true",
        "timeout": "9",
        "thumbprint": '"' + "ab" * 20 + '"',
        "allowed_sessions": '["DMZ-IDS"]',
    }
    lines = [f"{key} = {values.get(key, chr(34) + 'x' + chr(34))}" for key in setting_table.PROFILE_KEYS]
    cfg = write_config(tmp_path, 'default_profile = "p"\n[profiles.p]\n' + "\n".join(lines) + "\n")
    s = resolve("--config", str(cfg))
    for setting in setting_table.SETTINGS:
        if setting.profile:
            assert s.source(setting.name) == f"profile 'p' ({cfg})", setting.name
    assert (s.server, s.timeout, s.read_only, s.insecure, s.live) == ("vc", 9.0, True, True, False)
    assert s.allowed_sessions == ("DMZ-IDS",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[profiles.lab]\nurll = "x"\n', r": profiles\.lab\.urll: unknown setting 'urll' \(known: url, user,"),
        ('[profiles."my lab"]\nread_only = "yes"\n', r': profiles\."my lab"\.read_only must be true or false'),
        ('[profiles.lab]\ntimeout = "soon"\n', r"profiles\.lab\.timeout='soon' is not a number of seconds"),
        ("[keymap.explorer]\nfind = 2\n", r"keymap\.explorer\.find must be a key name"),
    ],
)
def test_config_errors_name_the_toml_path(tmp_path: Path, text: str, message: str) -> None:
    cfg = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        resolve("--config", str(cfg))


def test_keymap_tables_and_dotted_keys_give_dotted_ids(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, '[keymap]\nexplorer.find = "f"\n"app.quit" = "Q"\n[keymap.sessions]\nnew = "N"\n')
    assert resolve("--config", str(cfg)).keymap == {"explorer.find": "f", "app.quit": "Q", "sessions.new": "N"}


@pytest.mark.parametrize(
    ("argv", "env", "profile_read_only"),
    [
        ((), {}, None),
        (("--read-only",), {}, False),
        (("--no-read-only",), {"DVMIRROR_READ_ONLY": "1"}, True),
        ((), {"DVMIRROR_READ_ONLY": "yes"}, False),
        ((), {}, True),
        (("--profile", "other"), {}, True),
    ],
)
def test_resolve_read_only_agrees_with_resolve_settings(
    tmp_path: Path, argv: tuple[str, ...], env: dict[str, str], profile_read_only: bool | None
) -> None:
    lines = ['default_profile = "lab"', "[profiles.lab]", "[profiles.other]"]
    if profile_read_only is not None:
        lines.insert(2, f"read_only = {str(profile_read_only).lower()}")
    cfg = write_config(tmp_path, "\n".join(lines) + "\n")
    args = parse("--config", str(cfg), *argv)
    s = resolve_settings(args, env)
    assert config.resolve_read_only(args, env) == (s.read_only, s.source("read_only"))


def test_resolve_read_only_names_where_an_unknown_profile_came_from(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "[profiles.lab]\n")
    with pytest.raises(ConfigError, match=r"unknown profile 'nope' \(from DVMIRROR_PROFILE\); profiles in .*: lab"):
        config.resolve_read_only(parse("--config", str(cfg)), {"DVMIRROR_PROFILE": "nope"})


def test_allowed_sessions_top_level_and_per_profile(tmp_path: Path) -> None:
    text = (
        'allowed_sessions = ["DMZ-IDS", "vm[prod]"]\n'
        '[profiles.a]\nurl = "vc-a"\n'
        '[profiles.b]\nurl = "vc-b"\nallowed_sessions = []\n'
    )
    cfg = write_config(tmp_path, text)
    assert resolve("--config", str(cfg), "--profile", "a").allowed_sessions == ("DMZ-IDS", "vm[prod]")
    assert resolve("--config", str(cfg), "--profile", "b").allowed_sessions == ()  # nothing allowed
    assert (
        resolve("--config", str(write_config(tmp_path, '[profiles.a]\nurl = "x"\n')), "--profile", "a").allowed_sessions
        is None
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('allowed_sessions = "DMZ-IDS"', "allowed_sessions must be a list of session names"),
        ("allowed_sessions = [1, 2]", "allowed_sessions must be a list of session names"),
        ('allowed_sessions = ["a\\u001b[31m"]', "is not a session name"),
        ('allowed_sessions = ["' + "x" * 81 + '"]', "at most 80 characters"),
        ('[profiles.p]\nurl = "vc"\nallowed_sessions = "x"', "profiles.p.allowed_sessions must be a list"),
    ],
)
def test_bad_allowed_sessions_are_refused(tmp_path: Path, text: str, says: str) -> None:
    cfg = write_config(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as e:
        resolve("--config", str(cfg), *(["--profile", "p"] if "profiles.p" in text else []))
    assert says in str(e.value) and "\x1b" not in str(e.value)
