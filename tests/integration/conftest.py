"""Fixtures that build and run the vcsim test server (tests/vcsim, DESIGN.md §7).

- ``vcsim_binary`` (session): the server binary, built once per run into ``tests/vcsim/.build/``
  and rebuilt only when a ``.go`` file is newer. Without Go or govmomi the tests are skipped,
  or fail when ``CI`` is set (in CI they must run, never skip).
- ``vcsim`` (session): one server on the demo lab over http, shared and read-only: tests that
  change anything (sessions, login state) must start their own with ``start_vcsim``.
- ``vcsim_tls`` (session): the same over https with its own certificate, shared and read-only.
- ``start_vcsim`` (function): a factory ``start_vcsim(lab=None, tls=False, delay=0, ...)``;
  every server it starts is stopped when the test ends.
- ``start_module_vcsim`` (module): the same factory for a server the tests of one module share
  (each changing only what is its own), stopped when the module's tests are done.

These fixtures are the only way the tests start a server (``start_server`` below does it).

Each server is a :class:`VcsimServer` with ``url``, ``user``, ``password``, ``host``, ``port``,
``proc`` (the ``subprocess.Popen``), ``thumbprint`` and ``cert`` (TLS only), ``lab`` and
``connect()`` (a pyVmomi ``ServiceInstance``). The server exits when its standard input closes,
so it dies with the test process even if pytest is killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
VCSIM_DIR = REPO / "tests" / "vcsim"
BUILD_DIR = VCSIM_DIR / ".build"
BINARY = BUILD_DIR / "vcsim-dvmirror"
DEMO_LAB = REPO / "tui" / "backends" / "labs" / "demo.json"
GOPATH = Path(os.environ.get("DVMIRROR_GOPATH", "/usr/share/gocode"))
INSTALL_HINT = "apt-get install -y golang-go golang-github-vmware-govmomi-dev"
STARTUP_TIMEOUT = float(os.environ.get("DVMIRROR_VCSIM_STARTUP_TIMEOUT", "300"))


def _launch(cmd: list[str], log_name: str, timeout: float, what: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Run a test server and return it with the JSON line it prints on start (url, thumbprint, cert).

    Its standard input stays open, so it exits when this process does; standard error goes to ``log_name``.
    """
    with open(log_name, "w") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = ""
    while not line:
        remaining = deadline - time.monotonic()
        if proc.poll() is not None or remaining <= 0:
            break
        ready, _, _ = select.select([proc.stdout], [], [], min(remaining, 0.5))
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
    if not line:
        proc.kill()
        proc.wait()
        output = Path(log_name).read_text(errors="replace")
        Path(log_name).unlink(missing_ok=True)
        raise RuntimeError(f"{what} did not start (exit {proc.returncode}): {' '.join(cmd)}\n{output}")
    info: dict[str, Any] = json.loads(line)
    return proc, info


def _unavailable(message: str) -> None:
    """Skip locally; fail in CI, where the vcsim tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(message)


def _newest_source() -> float:
    return max(p.stat().st_mtime for p in VCSIM_DIR.glob("*.go"))


def build_vcsim() -> Path:
    """Build the server if a .go file is newer than the binary; return the binary's path."""
    if BINARY.exists() and BINARY.stat().st_mtime >= _newest_source():
        return BINARY
    if shutil.which("go") is None:
        _unavailable(f"Go is not installed, so the vcsim test server cannot be built ({INSTALL_HINT})")
    if not (GOPATH / "src" / "github.com" / "vmware" / "govmomi" / "simulator").is_dir():
        _unavailable(f"govmomi is not in {GOPATH}, so the vcsim test server cannot be built ({INSTALL_HINT})")
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    # One build at a time (pytest-xdist workers share the binary); build to a temporary
    # name and rename, so nobody ever runs a half-written file.
    with (BUILD_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if BINARY.exists() and BINARY.stat().st_mtime >= _newest_source():
            return BINARY
        tmp = BUILD_DIR / f"vcsim-dvmirror.{os.getpid()}.tmp"
        started = time.monotonic()
        result = subprocess.run(
            ["sh", str(VCSIM_DIR / "build.sh"), str(tmp)], capture_output=True, text=True, timeout=900
        )
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            pytest.fail(f"building the vcsim test server failed:\n{result.stdout}{result.stderr}", pytrace=False)
        os.replace(tmp, BINARY)
        print(f"built {BINARY.relative_to(REPO)} in {time.monotonic() - started:.1f}s")
    return BINARY


def _started_fields(info: dict[str, Any], log_name: str, started: float) -> dict[str, Any]:
    """Where a server listens (url, host, port, thumbprint) as its JSON start line says; its log and start time."""
    parts = urlsplit(info["url"])
    return {
        "url": info["url"],
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or (443 if parts.scheme == "https" else 80),
        "thumbprint": info.get("thumbprint", ""),
        "log_path": Path(log_name),
        "startup_seconds": time.monotonic() - started,
    }


@dataclass
class VcsimServer:
    """A running vcsim test server."""

    url: str
    user: str
    password: str
    host: str
    port: int
    proc: subprocess.Popen[str]
    lab: Path
    thumbprint: str = ""
    cert: str = ""
    log_path: Path | None = None
    startup_seconds: float = 0.0
    _sis: list[Any] = field(default_factory=list, repr=False)

    @property
    def tls(self) -> bool:
        return self.url.startswith("https:")

    def connect(self, user: str | None = None, password: str | None = None, **kwargs: Any) -> Any:
        """A pyVmomi ServiceInstance logged in to this server (closed when the server stops)."""
        import ssl

        from pyVim.connect import SmartConnect

        if self.tls:
            kwargs.setdefault("sslContext", ssl.create_default_context(cafile=self.cert))
        si = SmartConnect(
            host=self.host,
            port=self.port,
            user=self.user if user is None else user,
            pwd=self.password if password is None else password,
            protocol="https" if self.tls else "http",
            connectionPoolTimeout=-1,
            **kwargs,
        )
        self._sis.append(si)
        return si

    def log(self) -> str:
        """What the server wrote to standard error so far."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        """Close standard input (the server exits on EOF); escalate if it does not."""
        for si in self._sis:
            with contextlib.suppress(Exception):
                si._stub.DropConnections()
        self._sis.clear()
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()  # type: ignore[union-attr]
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[union-attr]
        if self.log_path:
            self.log_path.unlink(missing_ok=True)
        if self.cert and self.cert.startswith(tempfile.gettempdir()):
            Path(self.cert).unlink(missing_ok=True)


def start_server(
    binary: Path,
    lab: Path | None = None,
    *,
    tls: bool = False,
    delay: int = 0,
    user: str = "user",
    password: str = "pass",
    session_idle: float | None = None,
    args: tuple[str, ...] = (),
    timeout: float = STARTUP_TIMEOUT,
) -> VcsimServer:
    """Start the server and wait for its JSON line (url, thumbprint, cert)."""
    lab = DEMO_LAB if lab is None else Path(lab)
    fd, log_name = tempfile.mkstemp(prefix="vcsim-dvmirror-", suffix=".log")
    os.close(fd)
    cmd = [
        str(binary),
        "-lab", str(lab),
        "-listen", "127.0.0.1:0",
        "-user", user,
        "-password", password,
        "-delay", str(delay),
    ]  # fmt: skip
    cert = ""
    if tls:
        fd, cert = tempfile.mkstemp(prefix="vcsim-dvmirror-", suffix=".pem")
        os.close(fd)
        cmd += ["-tls", "-cert-out", cert]
    if session_idle is not None:
        cmd += ["-session-idle", f"{session_idle}s"]
    cmd += list(args)
    started = time.monotonic()
    proc, info = _launch(cmd, log_name, timeout, "vcsim test server")
    return VcsimServer(
        **_started_fields(info, log_name, started),
        user=user,
        password=password,
        proc=proc,
        lab=lab,
        cert=info.get("cert", "") or cert,
    )


@pytest.fixture(scope="session")
def vcsim_binary() -> Path:
    """The vcsim test server binary (built on first use)."""
    return build_vcsim()


@pytest.fixture(scope="session")
def vcsim(vcsim_binary: Path) -> Iterator[VcsimServer]:
    """A shared server on the demo lab over http. Do not change its state: use start_vcsim."""
    server = start_server(vcsim_binary)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def vcsim_tls(vcsim_binary: Path) -> Iterator[VcsimServer]:
    """A shared server on the demo lab over https (``cert``, ``thumbprint``). Do not change its state."""
    server = start_server(vcsim_binary, tls=True)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def _servers(binary: Path, directory: Path) -> Iterator[Callable[..., VcsimServer]]:
    """A ``start(lab=None, **start_server_options)`` that stops every server it started on exit;
    a lab given as a dict is written to a file in ``directory``."""
    servers: list[VcsimServer] = []

    def start(lab: Path | str | dict[str, Any] | None = None, **kwargs: Any) -> VcsimServer:
        if isinstance(lab, dict):
            path = directory / f"lab-{len(servers)}.json"
            path.write_text(json.dumps(lab), encoding="utf-8")
            lab = path
        server = start_server(binary, None if lab is None else Path(lab), **kwargs)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def start_vcsim(vcsim_binary: Path, tmp_path: Path) -> Iterator[Callable[..., VcsimServer]]:
    """Factory: ``start_vcsim(lab=None, tls=False, delay=0, user=..., password=..., session_idle=None,
    args=())`` starts a server of the test's own. ``lab`` is a path or a lab dict (written to a file).
    Every server started is stopped at the end of the test."""
    with _servers(vcsim_binary, tmp_path) as start:
        yield start


@pytest.fixture(scope="module")
def start_module_vcsim(
    vcsim_binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., VcsimServer]]:
    """As ``start_vcsim``, for servers shared by the tests of one module (stopped after its last test)."""
    with _servers(vcsim_binary, tmp_path_factory.mktemp("module-vcsim")) as start:
        yield start


# -- govmomi's stock vcsim (tests/stockvcsim): a second simulator no one here wrote -------------

STOCK_DIR = REPO / "tests" / "stockvcsim"
STOCK_BUILD_DIR = STOCK_DIR / ".build"
STOCK_BINARIES = (STOCK_BUILD_DIR / "stockvcsim", STOCK_BUILD_DIR / "govview")


def _newest_stock_source() -> float:
    return max(p.stat().st_mtime for p in [*STOCK_DIR.rglob("*.go"), STOCK_DIR / "build.sh", VCSIM_DIR / "build.sh"])


def _stock_built() -> bool:
    return all(b.exists() and b.stat().st_mtime >= _newest_stock_source() for b in STOCK_BINARIES)


def build_stock_vcsim() -> tuple[Path, Path]:
    """Build ``stockvcsim`` and ``govview`` if a source is newer; return their paths.

    As :func:`build_vcsim`: skipped without Go or govmomi, a failure when ``CI`` is set.
    """
    if _stock_built():
        return STOCK_BINARIES
    if shutil.which("go") is None:
        _unavailable(f"Go is not installed, so stock vcsim cannot be built ({INSTALL_HINT})")
    if not (GOPATH / "src" / "github.com" / "vmware" / "govmomi" / "simulator").is_dir():
        _unavailable(f"govmomi is not in {GOPATH}, so stock vcsim cannot be built ({INSTALL_HINT})")
    STOCK_BUILD_DIR.mkdir(parents=True, exist_ok=True)
    with (STOCK_BUILD_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stock_built():
            return STOCK_BINARIES
        tmp = Path(tempfile.mkdtemp(prefix="build.", dir=STOCK_BUILD_DIR))
        try:
            started = time.monotonic()
            result = subprocess.run(
                ["sh", str(STOCK_DIR / "build.sh"), str(tmp)], capture_output=True, text=True, timeout=900
            )
            if result.returncode != 0:
                pytest.fail(f"building stock vcsim failed:\n{result.stdout}{result.stderr}", pytrace=False)
            for binary in STOCK_BINARIES:
                os.replace(tmp / binary.name, binary)
            print(f"built {STOCK_BUILD_DIR.relative_to(REPO)} in {time.monotonic() - started:.1f}s")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return STOCK_BINARIES


@dataclass
class StockVcsim(VcsimServer):
    """A running stock vcsim; ``flags`` are the model flags it was started with (``-pg 3``)."""

    flags: tuple[str, ...] = ()
    govview_binary: Path | None = None

    def connect(self, user: str | None = None, password: str | None = None, **kwargs: Any) -> Any:
        """A pyVmomi ServiceInstance; over TLS the certificate is pinned by thumbprint (stock vcsim's
        built-in certificate has a 1024-bit key, which OpenSSL's default security level refuses)."""
        if self.tls:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            kwargs.setdefault("sslContext", ctx)
            kwargs.setdefault("thumbprint", self.thumbprint.replace(":", ""))
        from pyVim.connect import SmartConnect

        si = SmartConnect(
            host=self.host,
            port=self.port,
            user=self.user if user is None else user,
            pwd=self.password if password is None else password,
            protocol="https" if self.tls else "http",
            connectionPoolTimeout=-1,
            **kwargs,
        )
        self._sis.append(si)
        return si

    def govview(self, *, pin: str = "ca") -> dict[str, Any]:
        """govmomi's own client view of this server (tests/stockvcsim/govview), as a dict.

        Over TLS ``pin`` is ``"ca"`` (trust the certificate file) or ``"thumbprint"``."""
        assert self.govview_binary is not None
        cmd = [str(self.govview_binary), "-url", self.url, "-user", self.user, "-password", self.password]
        if self.tls:
            cmd += ["-ca", self.cert] if pin == "ca" else ["-thumbprint", self.thumbprint]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"govview failed ({result.returncode}): {result.stderr}")
        view: dict[str, Any] = json.loads(result.stdout)
        return view


def start_stock_server(
    binaries: tuple[Path, Path],
    *flags: str,
    tls: bool = False,
    user: str = "user",
    password: str = "pass",
    timeout: float = STARTUP_TIMEOUT,
) -> StockVcsim:
    """Start stock vcsim with model ``flags`` (``"-pg", "3"``) and wait for its JSON line."""
    server_binary, govview_binary = binaries
    fd, log_name = tempfile.mkstemp(prefix="stockvcsim-", suffix=".log")
    os.close(fd)
    cmd = [str(server_binary), "-listen", "127.0.0.1:0", "-username", user, "-password", password, *flags]
    if tls:
        cmd.append("-tls")
    started = time.monotonic()
    proc, info = _launch(cmd, log_name, timeout, "stock vcsim")
    return StockVcsim(
        **_started_fields(info, log_name, started),
        user=user,
        password=password,
        proc=proc,
        lab=STOCK_DIR,
        cert=info.get("cert", ""),
        flags=tuple(flags),
        govview_binary=govview_binary,
    )


@pytest.fixture(scope="session")
def stock_vcsim_binaries() -> tuple[Path, Path]:
    """``(stockvcsim, govview)``, built on first use."""
    return build_stock_vcsim()


@pytest.fixture
def start_stock_vcsim(stock_vcsim_binaries: tuple[Path, Path]) -> Iterator[Callable[..., StockVcsim]]:
    """Factory: ``start_stock_vcsim(*flags, tls=False, user="user", password="pass")`` starts
    govmomi's stock simulator (``simulator.VPX()``; flags such as ``"-pg", "3"`` set Model fields).
    Every server started is stopped at the end of the test."""
    servers: list[StockVcsim] = []

    def start(*flags: str, **kwargs: Any) -> StockVcsim:
        server = start_stock_server(stock_vcsim_binaries, *flags, **kwargs)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
