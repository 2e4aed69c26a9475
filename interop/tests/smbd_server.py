"""Runs the server under test: config generation, start (wait for `listening on`), stop, and
for a test's own server (OwnServer) kill -9 and a restart with the same config and state_dir.

Used by the pytest fixture (conftest.py), the suites that start servers of their own, and the
smbtorture runner (torture.py).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

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
    #: What client commands are prefixed with to reach the server (a network namespace).
    exec_prefix: Sequence[str] = ()
    #: http://host:port/metrics of the server's Prometheus endpoint, when it has one.
    metrics_url: Optional[str] = None

    def share_path(self, share: str) -> Optional[Path]:
        """Local directory behind `share`, when known."""
        return None if self.root is None else self.root / share

    def user(self, name: str = "alice") -> tuple[str, str]:
        """(name, password) of a test account."""
        return name, self.accounts[name]

    def alive(self) -> bool:
        """False once a server started by the fixture has exited."""
        return self.process is None or self.process.poll() is None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def toml_str(value: str) -> str:
    """A TOML basic string holding `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(
    path: Path,
    port: int,
    root: Path,
    state: Path,
    top_level: Sequence[str] = (),
    tables: Sequence[str] = (),
    host: str = "127.0.0.1",
    accounts: Optional[Mapping[str, str]] = None,
    account_lines: Optional[Mapping[str, Sequence[str]]] = None,
) -> None:
    """Writes the server's TOML config: the shares of SHARES and the accounts of `accounts`
    (name -> password, default ACCOUNTS), each followed by its `account_lines` (e.g. `groups`).

    `top_level` lines go among the top-level keys (before any table), `tables` lines at the end
    (e.g. `[[principal]]` or more `[[share]]` tables); the Kerberos and ACL tests use both.
    """
    accounts = ACCOUNTS if accounts is None else accounts
    account_lines = account_lines or {}
    level = os.environ.get("SMBD_TEST_LOG_LEVEL", "info")
    lines = [
        f'listen = "{host}:{port}"',
        f"server_name = {toml_str(SERVER_NAME)}",
        f"state_dir = {toml_str(str(state))}",
        'encrypt = "off"',
        f"log_level = {toml_str(level)}",
        *top_level,
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
    for name, password in accounts.items():
        lines += ["[[account]]", f"name = {toml_str(name)}", f'nt_hash = "{nt_hash(password)}"']
        lines += [*account_lines.get(name, ()), ""]
    lines += list(tables)
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


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL to the server's process group, as a crash ends it (no shutdown, nothing flushed
    or closed by the server itself), then waits until it is gone."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    proc.wait(timeout=STOP_TIMEOUT_S)


class StartError(Exception):
    """The server exited or stayed silent instead of listening."""


def start_server(
    binary: Path,
    root: Path,
    state: Path,
    log: Path,
    top_level: Sequence[str] = (),
    tables: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: Optional[int] = None,
    accounts: Optional[Mapping[str, str]] = None,
    account_lines: Optional[Mapping[str, Sequence[str]]] = None,
    prefix: Sequence[str] = (),
) -> tuple[subprocess.Popen, int]:
    """Starts the binary listening on `host` and waits for `listening on`; on a free port
    (retried when taken meanwhile) unless `port` is given. `top_level`, `tables`, `accounts` and
    `account_lines` shape the config (see write_config); `prefix` goes before the command line
    (e.g. `ip netns exec NAME`)."""
    last = ""
    fixed_port = port
    for _attempt in range(3):
        port = fixed_port if fixed_port is not None else free_port(host)
        cfg = root.parent / "smbd.toml"
        write_config(cfg, port, root, state, top_level, tables, host, accounts, account_lines)
        # Only what this start writes counts: a restart appends to the log of an earlier run.
        start_at = log.stat().st_size if log.exists() else 0
        with open(log, "ab") as out:
            out.write(f"=== {binary} --config {cfg} (port {port})\n".encode())
            out.flush()
            proc = subprocess.Popen(
                [*prefix, str(binary), "--config", str(cfg)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
                cwd=root.parent,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with open(log, "rb") as f:
                f.seek(start_at)
                text = f.read().decode(errors="replace")
            if re.search(rf"listening on \S*:{port}\b", text) or f"listening on {host}:{port}" in text:
                return proc, port
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        code = proc.poll()
        stop(proc)
        last = tail(log)
        why = f"exited with code {code}" if code is not None else f"was silent for {START_TIMEOUT_S:.0f} s"
        if fixed_port is not None or "in use" not in last.lower():
            break
    raise StartError(f"server {why} instead of printing 'listening on'; log {log}:\n{last}")


@dataclass
class OwnServer:
    """A server a test starts itself, with its own shares (those of SHARES), state_dir and
    log below `base`, that it may kill and start again: the config and the state_dir stay, so
    what the server keeps there (persistent handles, the server GUID) outlives the process.
    `tables` and `top_level` are passed to write_config."""

    binary: Path
    base: Path
    log: Path
    tables: Sequence[str] = ()
    top_level: Sequence[str] = ()
    process: subprocess.Popen | None = None
    port: int | None = None

    @property
    def root(self) -> Path:
        return self.base / "shares"

    @property
    def state(self) -> Path:
        return self.base / "state"

    def start(self) -> ServerInfo:
        """Starts the server; again on its previous port when it had one and the port can be
        bound again, else on a free one (a reconnecting client looks the port up anyway)."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the server is still running")
        prepare_root(self.root)
        self.state.mkdir(parents=True, exist_ok=True)
        kw = {"top_level": self.top_level, "tables": self.tables}
        try:
            self.process, self.port = start_server(self.binary, self.root, self.state, self.log, port=self.port, **kw)
        except StartError as e:
            if self.port is None or "in use" not in str(e).lower():
                raise
            self.process, self.port = start_server(self.binary, self.root, self.state, self.log, **kw)
        return self.info()

    def info(self) -> ServerInfo:
        """How to reach the running server."""
        return ServerInfo("127.0.0.1", self.port, SERVER_NAME, dict(ACCOUNTS), root=self.root, log=self.log,
                          process=self.process)

    def kill(self) -> None:
        """kill -9 (see kill_hard)."""
        if self.process is not None:
            kill_hard(self.process)

    def stop(self) -> None:
        """SIGTERM, SIGKILL if needed (see stop)."""
        if self.process is not None:
            stop(self.process)
