"""Fixtures that run the server under test for the interop suites.

By default a session-scoped fixture starts the release binary (target/release/smbd, or $SMBD_BIN)
with a generated TOML config on a free 127.0.0.1 port, temp dirs for the shares `share`, `enc`
(encryption required) and `ro` (read only), and the accounts of accounts.py. It waits for the
`listening on` line, and stops the server at the end. The server's output is kept in
target/interop-logs/ (or $SMBD_TEST_LOG_DIR) and its tail is printed when a test failed.

Environment:
  SMBD_TEST_EXTERNAL=host:port  use a server that is already running instead (e.g. the Samba of
                                samba-reference.sh); it must have the same shares and accounts.
  SMBD_TEST_ROOT=DIR            with SMBD_TEST_EXTERNAL: the local folder holding its share dirs
                                (share/, enc/, ro/), so that tests can check files on disk.
  SMBD_BIN=PATH                 binary to start instead of target/release/smbd.
  SMBD_TEST_LOG_LEVEL=LEVEL     log_level written into the config (default "info").
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pytest

from accounts import ACCOUNTS, nt_hash

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
SERVER_NAME = "SMBTEST"
#: Share name -> (read_only, encrypt) of every share the suites expect.
SHARES = {"share": (False, "off"), "enc": (False, "required"), "ro": (True, "off")}
#: A file created in the `ro` share before the server starts.
RO_FILE = "readme.txt"
RO_CONTENT = b"this share is read only\n"


@dataclass
class ServerInfo:
    """How to reach the server under test."""

    host: str
    port: int
    server_name: str
    accounts: dict = field(default_factory=dict)
    #: Local folder holding one directory per share, or None when unknown (external server).
    root: Optional[Path] = None
    #: File with the server's output, or None for an external server.
    log: Optional[Path] = None
    process: Optional[subprocess.Popen] = None

    def share_path(self, share: str) -> Optional[Path]:
        """Local directory behind `share`, when known."""
        return None if self.root is None else self.root / share

    def user(self, name: str = "alice") -> tuple[str, str]:
        """(name, password) of a test account."""
        return name, self.accounts[name]

    def alive(self) -> bool:
        """False once a server started by the fixture has exited."""
        return self.process is None or self.process.poll() is None


SERVER_KEY = pytest.StashKey[ServerInfo]()
FAILED_KEY = pytest.StashKey[bool]()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_str(value: str) -> str:
    """A TOML basic string holding `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, port: int, root: Path, state: Path) -> None:
    """Writes the server's TOML config: the shares of SHARES and the accounts of ACCOUNTS."""
    level = os.environ.get("SMBD_TEST_LOG_LEVEL", "info")
    lines = [
        f'listen = "127.0.0.1:{port}"',
        f"server_name = {toml_str(SERVER_NAME)}",
        f"state_dir = {toml_str(str(state))}",
        'signing = "enabled"',
        'encrypt = "off"',
        f"log_level = {toml_str(level)}",
        "",
    ]
    for name, (read_only, encrypt) in SHARES.items():
        lines += [
            "[[share]]",
            f"name = {toml_str(name)}",
            f"path = {toml_str(str(root / name))}",
            f"read_only = {'true' if read_only else 'false'}",
            f"encrypt = {toml_str(encrypt)}",
            "",
        ]
    for name, password in ACCOUNTS.items():
        lines += ["[[account]]", f"name = {toml_str(name)}", f'nt_hash = "{nt_hash(password)}"', ""]
    path.write_text("\n".join(lines))


def prepare_root(root: Path) -> None:
    """Creates the share directories and the `ro` share's fixed file."""
    for name in SHARES:
        (root / name).mkdir(parents=True, exist_ok=True)
    ro_file = root / "ro" / RO_FILE
    if not ro_file.exists():
        ro_file.write_bytes(RO_CONTENT)


def log_dir() -> Path:
    """Where server logs are kept."""
    d = Path(os.environ.get("SMBD_TEST_LOG_DIR", REPO / "target" / "interop-logs"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def tail(path: Optional[Path], lines: int = 150) -> str:
    """The last `lines` lines of a log file."""
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL if it does not exit in time."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def start_server(binary: Path, root: Path, state: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """Starts the binary and waits for `listening on`; retries on a port taken meanwhile."""
    last = ""
    for _attempt in range(3):
        port = free_port()
        cfg = root.parent / "smbd.toml"
        write_config(cfg, port, root, state)
        with open(log, "ab") as out:
            out.write(f"=== {binary} --config {cfg} (port {port})\n".encode())
            out.flush()
            proc = subprocess.Popen(
                [str(binary), "--config", str(cfg)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
                cwd=root.parent,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if re.search(rf"listening on \S*:{port}\b", text) or f"listening on 127.0.0.1:{port}" in text:
                return proc, port
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        stop(proc)
        last = tail(log)
        if "in use" not in last.lower():
            break
    raise RuntimeError(f"server did not print 'listening on' within {START_TIMEOUT_S:.0f} s; log {log}:\n{last}")


@pytest.fixture(scope="session")
def server(tmp_path_factory, request) -> ServerInfo:
    """The running server under test (started here unless SMBD_TEST_EXTERNAL is set)."""
    external = os.environ.get("SMBD_TEST_EXTERNAL")
    if external:
        host, _, port = external.rpartition(":")
        root_env = os.environ.get("SMBD_TEST_ROOT")
        root = Path(root_env) if root_env else None
        if root is not None:
            prepare_root(root)
        info = ServerInfo(host or "127.0.0.1", int(port), SERVER_NAME, dict(ACCOUNTS), root=root)
        request.config.stash[SERVER_KEY] = info
        yield info
        return

    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    if not binary.is_file():
        pytest.fail(f"server binary {binary} missing: run `cargo build --release -p smbd` first")
    base = tmp_path_factory.mktemp("smbd")
    root = base / "shares"
    state = base / "state"
    state.mkdir()
    prepare_root(root)
    log = log_dir() / f"smbd-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        proc, port = start_server(binary, root, state, log)
    except RuntimeError as e:
        pytest.fail(str(e))
    info = ServerInfo("127.0.0.1", port, SERVER_NAME, dict(ACCOUNTS), root=root, log=log, process=proc)
    request.config.stash[SERVER_KEY] = info
    try:
        yield info
    finally:
        stop(proc)


@pytest.fixture
def live_server(server) -> ServerInfo:
    """The server, checked to still be running before the test."""
    assert server.alive(), f"server exited (code {server.process.returncode}):\n{tail(server.log)}"
    return server


def _unique(test_name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9]+", "_", test_name)[:40].strip("_")
    return f"t_{clean}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_dir(live_server, request) -> Callable[[str], str]:
    """Factory: `make_dir(share)` creates a fresh empty directory in `share`, returns its name."""

    def make(share: str = "share") -> str:
        name = _unique(request.node.name)
        local = live_server.share_path(share)
        if local is not None:
            (local / name).mkdir(mode=0o777)
            os.chmod(local / name, 0o777)
        else:
            user, password = live_server.user()
            out = subprocess.run(
                ["smbclient", f"//{live_server.host}/{share}", "-p", str(live_server.port),
                 "-U", f"{user}%{password}", "-m", "SMB3_11", "-c", f"mkdir {name}"],
                capture_output=True, text=True, timeout=60,
            )
            assert out.returncode == 0 and "NT_STATUS_" not in out.stdout, out.stdout + out.stderr
        return name

    return make


@pytest.fixture
def fresh_dir(make_dir) -> str:
    """A fresh empty directory in the `share` share (its name, relative to the share root)."""
    return make_dir("share")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remembers that some test failed, so the server log is printed at the end."""
    outcome = yield
    if outcome.get_result().failed:
        item.config.stash[FAILED_KEY] = True


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Prints the tail of the server log when anything failed."""
    info = config.stash.get(SERVER_KEY, None)
    if info is None or info.log is None:
        return
    terminalreporter.write_line(f"server log: {info.log}")
    if config.stash.get(FAILED_KEY, False) or exitstatus != 0:
        terminalreporter.section("server log (tail)")
        terminalreporter.write_line(tail(info.log, 300))
