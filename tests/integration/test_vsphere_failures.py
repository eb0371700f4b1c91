"""How the vsphere backend fails: plain errors with hints, never a traceback or a password."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.labgen import scaled_lab
from tui.backends import CertificateError, ConnectionFailed, LoadInterrupted, LoginFailed, SessionExpired
from tui.backends.vsphere import NoSuchDatacenter, VsphereBackend
from tui.config import Settings, parse_server

pytestmark = pytest.mark.vcsim


def settings_for(server: Any, **overrides: Any) -> Settings:
    url = parse_server(server.url, "--server")
    base = Settings(
        server=url.host,
        port=url.port,
        scheme=url.scheme,
        path=url.path,
        user=server.user,
        password=server.password,
    )
    return replace(base, **overrides)


@pytest.fixture
def backends() -> Iterator[list[VsphereBackend]]:
    made: list[VsphereBackend] = []
    yield made
    for b in made:
        b.close()


def make(backends: list[VsphereBackend], settings: Settings, **kw: Any) -> VsphereBackend:
    b = VsphereBackend(settings, **kw)
    backends.append(b)
    return b


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- login and reachability -------------------------------------------------------------------


def test_wrong_password(vcsim: Any, backends: list[VsphereBackend]) -> None:
    b = make(backends, settings_for(vcsim, password="Wr0ng-Secret!"))
    with pytest.raises(LoginFailed) as err:
        b.load()
    assert "refused the user name or password" in err.value.message
    assert "Wr0ng-Secret!" not in str(err.value)
    assert err.value.exit_code == 3


def test_no_user(vcsim: Any, backends: list[VsphereBackend]) -> None:
    with pytest.raises(LoginFailed, match="no user name"):
        make(backends, settings_for(vcsim, user="")).connect()


def test_nothing_listening(backends: list[VsphereBackend]) -> None:
    port = free_port()
    b = make(backends, Settings(server="127.0.0.1", port=port, scheme="http", user="u", password="p"))
    with pytest.raises(ConnectionFailed) as err:
        b.load()
    assert err.value.message == f"nothing is listening on 127.0.0.1:{port}"
    assert err.value.hint


def test_unknown_host(backends: list[VsphereBackend]) -> None:
    b = make(backends, Settings(server="vcsa.nonexistent.invalid", user="u", password="p"))
    with pytest.raises(ConnectionFailed, match="cannot resolve the host name 'vcsa.nonexistent.invalid'"):
        b.connect()


def test_a_silent_server_times_out(backends: list[VsphereBackend]) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the TCP connection, never answers
        port = listener.getsockname()[1]
        b = make(backends, Settings(server="127.0.0.1", port=port, scheme="http", user="u", password="p"), timeout=0.5)
        with pytest.raises(ConnectionFailed, match="did not answer within 0.5 s"):
            b.connect()


def test_not_a_vcenter(backends: list[VsphereBackend]) -> None:
    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        port = httpd.server_address[1]
        b = make(backends, Settings(server="127.0.0.1", port=int(port), scheme="http", user="u", password="p"))
        with pytest.raises(ConnectionFailed, match="does not look like vCenter"):
            b.connect()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_unknown_datacenter(vcsim: Any, backends: list[VsphereBackend]) -> None:
    with pytest.raises(NoSuchDatacenter) as err:
        make(backends, settings_for(vcsim, datacenter="DC-Nowhere")).load()
    assert "DC-Cloud" in err.value.hint
    assert err.value.exit_code == 2


def test_datacenter_filter(vcsim: Any, backends: list[VsphereBackend]) -> None:
    inv = make(backends, settings_for(vcsim, datacenter="DC-Cloud")).load()
    assert inv.datacenters == ("DC-Cloud",)
    assert len(inv.switches) == 2 and all(s.datacenter == "DC-Cloud" for s in inv.switches.values())


# -- TLS ------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(vcsim_tls: Any) -> Any:
    """The shared server over https (these tests only read)."""
    return vcsim_tls


def test_untrusted_certificate_explains_the_ways_forward(tls_server: Any, backends: list[VsphereBackend]) -> None:
    b = make(backends, settings_for(tls_server))
    with pytest.raises(CertificateError) as err:
        b.load()
    assert "is not trusted" in err.value.message
    hint = err.value.hint
    assert "--ca-file" in hint and "GOVC_TLS_CA_CERTS" in hint
    assert f"--thumbprint {tls_server.thumbprint}" in hint
    assert "--insecure" in hint
    assert err.value.exit_code == 3


def test_trusted_through_a_ca_file(tls_server: Any, backends: list[VsphereBackend]) -> None:
    inv = make(backends, settings_for(tls_server, ca_file=tls_server.cert)).load()
    assert len(inv.ports) > 300


def test_missing_ca_file(tls_server: Any, backends: list[VsphereBackend], tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="does not exist"):
        make(backends, settings_for(tls_server, ca_file=str(tmp_path / "none.pem"))).connect()


def test_trusted_through_a_pinned_thumbprint(tls_server: Any, backends: list[VsphereBackend]) -> None:
    inv = make(backends, settings_for(tls_server, thumbprint=tls_server.thumbprint)).load()
    assert len(inv.vms) > 40


def test_a_different_pinned_thumbprint_is_refused(tls_server: Any, backends: list[VsphereBackend]) -> None:
    wrong = ":".join(["AB"] * 20)
    with pytest.raises(CertificateError) as err:
        make(backends, settings_for(tls_server, thumbprint=wrong)).connect()
    assert "not the pinned one" in err.value.message
    assert tls_server.thumbprint in err.value.hint


def test_trusted_through_a_govc_known_hosts_file(
    tls_server: Any, backends: list[VsphereBackend], tmp_path: Path
) -> None:
    kh = tmp_path / "known_hosts"
    kh.write_text(f"{tls_server.host}:{tls_server.port} {tls_server.thumbprint}\n", encoding="utf-8")
    inv = make(backends, settings_for(tls_server, known_hosts=str(kh))).load()
    assert len(inv.switches) == 2


def test_insecure_connects_and_says_so(tls_server: Any, backends: list[VsphereBackend]) -> None:
    b = make(backends, settings_for(tls_server, insecure=True))
    assert b.insecure and b.label == f"vCenter {tls_server.host}"
    assert len(b.load().switches) == 2


# -- failures during a load --------------------------------------------------------------------


def test_server_stopped_in_the_middle_of_a_load(start_vcsim: Any, backends: list[VsphereBackend]) -> None:
    server = start_vcsim(lab=scaled_lab(3000), delay=150)
    b = make(backends, settings_for(server), page_size=500)
    b.connect()
    started = threading.Event()

    def progress(step: Any) -> None:
        if step.message.startswith("Reading VMs"):
            started.set()

    def kill() -> None:
        started.wait(30)
        server.proc.kill()

    killer = threading.Thread(target=kill)
    killer.start()
    try:
        with pytest.raises(ConnectionFailed) as err:
            b.load(progress)
    finally:
        killer.join()
    assert started.is_set(), "the server was killed after the load had started"
    assert f"{server.host}:{server.port}" in err.value.message
    assert isinstance(err.value, LoadInterrupted) and "was interrupted" in err.value.message
    assert "dropped" in err.value.message or "no longer accepts connections" in err.value.message
    assert "nothing is listening" not in err.value.message
    assert "Traceback" not in str(err.value)


def test_expired_session_logs_in_again(start_vcsim: Any, backends: list[VsphereBackend]) -> None:
    server = start_vcsim(session_idle=1)
    b = make(backends, settings_for(server))
    b.connect()
    first_cookie = b._stub.cookie
    relogins: list[int] = []
    real = b._relogin

    def relogin() -> None:
        relogins.append(1)
        real()

    b._relogin = relogin  # type: ignore[method-assign]
    time.sleep(2.5)  # the server forgets the idle session
    inv = b.load()
    assert len(inv.ports) > 300
    assert relogins == [1]
    assert b._stub.cookie != first_cookie, "a new session was opened"


def test_expired_session_that_cannot_log_in_again(start_vcsim: Any, backends: list[VsphereBackend]) -> None:
    server = start_vcsim(session_idle=1)
    b = make(backends, settings_for(server))
    b.connect()
    b.settings = replace(b.settings, password="changed-meanwhile")  # e.g. the password was rotated
    time.sleep(2.5)
    with pytest.raises(SessionExpired) as err:
        b.load()
    assert "logging in again" in err.value.message
    assert "changed-meanwhile" not in str(err.value)
    assert isinstance(err.value, ConnectionFailed)


def test_close_is_quiet(start_vcsim: Any) -> None:
    server = start_vcsim()
    b = VsphereBackend(settings_for(server))
    b.connect()
    server.stop()
    b.close()  # the server is gone: still no exception
    b.close()


def test_close_during_a_load_cuts_it_short(start_vcsim: Any) -> None:
    server = start_vcsim(lab=scaled_lab(3000), delay=100)
    b = VsphereBackend(settings_for(server), page_size=500)
    b.connect()
    reading = threading.Event()
    outcome: list[BaseException | None] = []

    def progress(step: Any) -> None:
        if step.message.startswith("Reading VMs"):
            reading.set()

    def load() -> None:
        try:
            b.load(progress)
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            outcome.append(e)

    worker = threading.Thread(target=load)
    worker.start()
    assert reading.wait(30)
    started = time.monotonic()
    b.close()
    assert time.monotonic() - started < 2, "close() does not wait for the load"
    worker.join(10)
    assert not worker.is_alive()
    assert isinstance(outcome[0], ConnectionFailed)
    assert b._si is None, "the loading thread logged out when it stopped"
