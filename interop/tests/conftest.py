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
import subprocess
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest

from accounts import ACCOUNTS
from smbd_server import (
    REPO,
    SERVER_NAME,
    ServerInfo,
    StartError,
    log_dir,
    free_port,
    prepare_root,
    start_server,
    stop,
    tail,
)

SERVER_KEY = pytest.StashKey[ServerInfo]()


def pytest_configure(config):
    """Registers the suites' markers."""
    config.addinivalue_line("markers", "kerberos: needs the private MIT realm of kdc.py (test_kerberos.py)")

FAILED_KEY = pytest.StashKey[bool]()
#: Measurement lines tests recorded with the `report` fixture, printed in the summary.
REPORT_KEY = pytest.StashKey[list]()


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
    # The Prometheus endpoint is on, so that test_metrics.py scrapes it after the other tests.
    metrics = f"127.0.0.1:{free_port()}"
    try:
        proc, port = start_server(binary, root, state, log, top_level=[f'metrics_listen = "{metrics}"'])
    except StartError as e:
        pytest.fail(str(e))
    info = ServerInfo("127.0.0.1", port, SERVER_NAME, dict(ACCOUNTS), root=root, log=log, process=proc,
                      metrics_url=f"http://{metrics}/metrics")
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


@pytest.fixture
def report(request) -> Callable[[str], None]:
    """Factory: `report(text)` records a measurement line (memory, timings, reduced scope);
    the lines are printed in a `measurements` section at the end of the run."""
    lines = request.config.stash.setdefault(REPORT_KEY, [])

    def add(text: str) -> None:
        lines.append(f"{request.node.name}: {text}")
        print(text)

    return add


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remembers that some test failed, so the server log is printed at the end."""
    outcome = yield
    if outcome.get_result().failed:
        item.config.stash[FAILED_KEY] = True


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Prints the recorded measurements, and the tail of the server log when anything failed."""
    measured = config.stash.get(REPORT_KEY, [])
    if measured:
        terminalreporter.section("measurements")
        for line in measured:
            terminalreporter.write_line(line)
    info = config.stash.get(SERVER_KEY, None)
    if info is None or info.log is None:
        return
    terminalreporter.write_line(f"server log: {info.log}")
    if config.stash.get(FAILED_KEY, False) or exitstatus != 0:
        terminalreporter.section("server log (tail)")
        terminalreporter.write_line(tail(info.log, 300))
