"""Live reconfiguration with real clients: while smbprotocol holds a session on share `keep`
with an open file, `smbd-tools reload` (and SIGHUP) apply an edited config: share `gone` is
removed (smbclient can no longer connect it, and a tree already on it ends), `new` is added
and served, a second account starts to work, and the held session and its open file go on
untouched. A config with an error is refused whole (exit 1) and the running one stays.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from smbprotocol.connection import Connection
from smbprotocol.exceptions import SMBResponseException
from smbprotocol.open import (
    CreateDisposition,
    CreateOptions,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    Open,
    ShareAccess,
)
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

from accounts import ACCOUNTS, nt_hash
from helpers import run_smbclient
from smbd_server import REPO, SERVER_NAME, ServerInfo, StartError, free_port, log_dir, stop, tail, toml_str

CAROL = ("carol", "Carol-Pass-3")


def tools() -> Path:
    return Path(os.environ.get("SMBD_TOOLS_BIN", REPO / "target" / "release" / "smbd-tools"))


def config_text(port: int, base: Path, shares: list[str], accounts: dict[str, str], extra: str = "") -> str:
    lines = [f'listen = "127.0.0.1:{port}"', f"server_name = {toml_str(SERVER_NAME)}",
             f"state_dir = {toml_str(str(base / 'state'))}", 'signing = "enabled"', extra, ""]
    for name in shares:
        lines += ["[[share]]", f"name = {toml_str(name)}", f"path = {toml_str(str(base / name))}", ""]
    for name, password in accounts.items():
        lines += ["[[account]]", f"name = {toml_str(name)}", f'nt_hash = "{nt_hash(password)}"', ""]
    return "\n".join(lines)


@pytest.fixture
def reloadable(tmp_path):
    """A server started from a config file of its own: shares keep and gone, alice only."""
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        pytest.skip("needs a server started here from a config file it can re-read")
    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    for d in ("keep", "gone", "new", "state"):
        (tmp_path / d).mkdir()
    port = free_port()
    cfg = tmp_path / "smbd.toml"
    cfg.write_text(config_text(port, tmp_path, ["keep", "gone"], {"alice": ACCOUNTS["alice"]}))
    # One log per server: the wait below looks for this start's "listening on".
    log = log_dir() / f"smbd-reload-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([str(binary), "--config", str(cfg)], stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while b"listening on" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise StartError(f"server did not start:\n{tail(log)}")
        time.sleep(0.05)
    info = ServerInfo("127.0.0.1", port, SERVER_NAME, {**ACCOUNTS, CAROL[0]: CAROL[1]}, root=tmp_path,
                      log=log, process=proc)
    try:
        yield info, cfg, port
    finally:
        stop(proc)


def reload(cfg: Path) -> subprocess.CompletedProcess:
    """`smbd-tools reload` through the server's admin socket (state_dir/admin.sock): with
    --config the tool would read the edited file first and stop at its errors itself."""
    sock = cfg.parent / "state" / "admin.sock"
    return subprocess.run([str(tools()), "reload", "--socket", str(sock)], capture_output=True, text=True,
                          timeout=30)


def test_reload_adds_and_removes_shares_without_dropping_a_session(reloadable):
    server, cfg, port = reloadable
    base = server.root
    conn = Connection(uuid.uuid4(), "127.0.0.1", port, require_signing=True)
    conn.connect(timeout=30)
    session = Session(conn, "alice", ACCOUNTS["alice"])
    session.connect()
    keep = TreeConnect(session, rf"\\127.0.0.1\keep")
    keep.connect()
    gone = TreeConnect(session, rf"\\127.0.0.1\gone")
    gone.connect()
    held = Open(keep, "held.txt")
    held.create(ImpersonationLevel.Impersonation,
                FilePipePrinterAccessMask.GENERIC_READ | FilePipePrinterAccessMask.GENERIC_WRITE,
                0, ShareAccess.FILE_SHARE_READ, CreateDisposition.FILE_OVERWRITE_IF,
                CreateOptions.FILE_NON_DIRECTORY_FILE)
    held.write(b"before the reload\n", 0)
    assert run_smbclient(server, "new", "ls").returncode != 0, "not served yet"
    assert run_smbclient(server, "keep", "ls", user="carol").returncode != 0, "carol unknown yet"

    cfg.write_text(config_text(port, base, ["keep", "new"], {"alice": ACCOUNTS["alice"], "carol": CAROL[1]}))
    r = reload(cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "added new" in r.stdout and "removed gone" in r.stdout and "1 tree(s) ended" in r.stdout, r.stdout

    # The session, its tree on `keep` and its open file go on.
    held.write(b"after the reload\n", 18)
    assert held.read(0, 100) == b"before the reload\nafter the reload\n"
    # The tree on the removed share ended; the share is no longer served.
    with pytest.raises(SMBResponseException) as e:
        Open(gone, "x.txt").create(ImpersonationLevel.Impersonation, FilePipePrinterAccessMask.GENERIC_READ, 0,
                                   ShareAccess.FILE_SHARE_READ, CreateDisposition.FILE_OPEN_IF,
                                   CreateOptions.FILE_NON_DIRECTORY_FILE)
    assert e.value.status == 0xC00000C9, hex(e.value.status)  # NETWORK_NAME_DELETED
    assert "BAD_NETWORK_NAME" in run_smbclient(server, "gone", "ls").stdout
    # The new share and the new account work.
    (base / "new" / "hello.txt").write_text("hi\n")
    listing = run_smbclient(server, "new", "ls")
    assert listing.returncode == 0 and "hello.txt" in listing.stdout, listing.stdout
    assert run_smbclient(server, "keep", "ls", user="carol").returncode == 0

    # A config with an error is refused whole; the running one stays (`new` still served).
    cfg.write_text(config_text(port, base, ["keep"], {"alice": ACCOUNTS["alice"]}, extra="max_credits = -1"))
    r = reload(cfg)
    assert r.returncode == 1 and "reload refused" in r.stdout, r.stdout + r.stderr
    assert run_smbclient(server, "new", "ls").returncode == 0

    # SIGHUP does the same as `smbd-tools reload`.
    cfg.write_text(config_text(port, base, ["keep"], {"alice": ACCOUNTS["alice"]}))
    os.kill(server.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "removed new" not in server.log.read_text():
        assert time.monotonic() < deadline, tail(server.log)
        time.sleep(0.1)
    assert "BAD_NETWORK_NAME" in run_smbclient(server, "new", "ls").stdout
    held.close()
    # Not a clean logoff: it would disconnect the tree on `gone` too, which the server ended.
    conn.disconnect(False)


def test_share_add_and_remove_commands_reload_the_server(reloadable):
    """`smbd-tools share add|remove --config` edit the file and make the server reload."""
    server, cfg, _ = reloadable
    base = server.root
    (base / "new" / "n.txt").write_text("n\n")
    r = subprocess.run([str(tools()), "share", "add", "--config", str(cfg), "--name", "new", "--path",
                        str(base / "new"), "--comment", "added live"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "added new" in r.stdout, r.stdout + r.stderr
    listing = run_smbclient(server, "new", "ls")
    assert listing.returncode == 0 and "n.txt" in listing.stdout, listing.stdout
    r = subprocess.run([str(tools()), "share", "remove", "--config", str(cfg), "--name", "gone"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "removed gone" in r.stdout, r.stdout + r.stderr
    assert "BAD_NETWORK_NAME" in run_smbclient(server, "gone", "ls").stdout
    listed = subprocess.run([str(tools()), "share", "list", "--config", str(cfg)], capture_output=True, text=True,
                            timeout=30).stdout
    assert [line.split()[0] for line in listed.splitlines()[1:]] == ["keep", "new"], listed
