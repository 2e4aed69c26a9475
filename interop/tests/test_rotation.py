"""Key rotation with real clients (issue #13): a service key rotated in the private MIT KDC
(kdc.py) and in the server's keytab with `smbd-tools keytab rotate`, after which tickets of
both kvnos are accepted; and an NTLM password change-over, during which both passwords log on.

The rotation uses a principal of its own, cifs/fs-rotate.example.test (added here with
kadmin.local, with an /etc/hosts line added and removed here), so the keys the other
Kerberos tests rely on are untouched. The server is this module's own, started with a keytab
that `ktadd` exported (kvno 2) and an admin socket for `smbd-tools reload`.

Environment: SMBD_BIN and SMBD_TOOLS_BIN as for the other suites; SMBD_TEST_EXTERNAL skips
(the tests rewrite the server's keytab and config).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

import kdc as realm_mod
from accounts import ACCOUNTS
from helpers import assert_ok, run_smbclient
from kdc import AES128, AES256, REALM, kdc  # noqa: F401 (kdc: the fixture)
from smbd_server import REPO, SERVER_NAME, ServerInfo, StartError, log_dir, prepare_root, start_server, stop, tail, toml_str

pytestmark = pytest.mark.kerberos

ROTATE_HOST = f"fs-rotate.{realm_mod.DOMAIN}"
OLD_SERVICE_PASSWORD = "Rotate-Old-Pass-5"
NEW_SERVICE_PASSWORD = "Rotate-New-Pass-6"
#: alice's identity for MIT tickets (their PAC has no LOGON_INFO).
ALICE_SID = "S-1-5-21-1-2-3-1105"
#: alice's NTLM passwords: the one the server starts with, then two changes.
NTLM_OLD = ACCOUNTS["alice"]
NTLM_NEW = "Alice-Changed-Pass-7"
NTLM_NEWER = "Alice-Changed-Again-8"


def tools() -> Path:
    """The admin CLI (fails the test when it is missing)."""
    path = Path(os.environ.get("SMBD_TOOLS_BIN", REPO / "target" / "release" / "smbd-tools"))
    if not path.is_file():
        pytest.fail(f"admin CLI {path} missing: run `cargo build --release -p tools` first")
    return path


def run_tool(*args: str) -> subprocess.CompletedProcess:
    """smbd-tools ARGS; output in .stdout, errors in .stderr."""
    return subprocess.run([str(tools()), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)


@dataclass
class RotServer:
    """This module's server: its info, config file, keytab and admin socket."""

    info: ServerInfo
    config: Path
    keytab: Path
    admin_socket: Path


@pytest.fixture(scope="module")
def rot_server(kdc, tmp_path_factory):
    """A server with its own keytab (cifs/fs-rotate, kvno 2, exported by ktadd), alice's
    principal mapping, the usual NTLM accounts and an admin socket."""
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        pytest.skip("rotation rewrites the server's keytab and config (SMBD_TEST_EXTERNAL is set)")
    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    if not binary.is_file():
        pytest.fail(f"server binary {binary} missing: run `cargo build --release -p smbd` first")
    added = realm_mod.add_hosts([ROTATE_HOST])
    try:
        spn = realm_mod.spn(ROTATE_HOST)
        kdc.kadmin(f"addprinc -kvno {realm_mod.KVNO} -e {AES256}:normal,{AES128}:normal "
                   f"-pw {OLD_SERVICE_PASSWORD} {spn}")
        base = tmp_path_factory.mktemp("smbd-rotate")
        root, state = base / "shares", base / "state"
        state.mkdir()
        prepare_root(root)
        keytab = base / "rotate.keytab"
        kdc.kadmin(f"ktadd -k {keytab} -norandkey {spn}")
        os.chmod(keytab, 0o600)
        sock = state / "admin.sock"
        top = [f"keytabs = [{toml_str(str(keytab))}]", f"admin_socket = {toml_str(str(sock))}"]
        tables = ["[[principal]]", f'name = "alice@{REALM}"', f'sid = "{ALICE_SID}"', ""]
        log = log_dir() / f"smbd-rotate-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        try:
            proc, port = start_server(binary, root, state, log, top_level=top, tables=tables)
        except StartError as e:
            pytest.fail(f"the server does not start: {e}")
        info = ServerInfo("127.0.0.1", port, SERVER_NAME, dict(ACCOUNTS), root=root, log=log, process=proc)
        try:
            yield RotServer(info, root.parent / "smbd.toml", keytab, sock)
        finally:
            stop(proc)
    finally:
        realm_mod.remove_hosts(added)


@pytest.fixture(scope="module")
def client_conf(tmp_path_factory) -> Path:
    """An smb.conf for smbclient so that the machine's /etc/samba/smb.conf plays no part."""
    conf = tmp_path_factory.mktemp("smbclient-rotate") / "smb.conf"
    conf.write_text(
        "[global]\n    workgroup = EXAMPLE\n    realm = EXAMPLE.TEST\n    client min protocol = SMB2_02\n"
    )
    return conf


def fresh_ccache(kdc, path: Path) -> Path:
    """A private copy of alice's TGT cache (mode 0600), without service tickets."""
    shutil.copyfile(kdc.ccache, path)
    os.chmod(path, 0o600)
    return path


def service_ticket_kvno(kdc, ccache: Path) -> int:
    """Gets a ticket for cifs/fs-rotate into `ccache` (`kvno`); returns its kvno."""
    out = kdc.service_ticket(ccache, ROTATE_HOST)
    m = re.search(r"kvno = (\d+)", out)
    assert m, f"no kvno in kvno's output: {out}"
    return int(m.group(1))


def krb_ls(server: RotServer, kdc, ccache: Path, conf: Path) -> subprocess.CompletedProcess:
    """smbclient -k `ls` on //fs-rotate.example.test/share (at 127.0.0.1) with the tickets of
    `ccache`: a ticket for the service already there is used as it is."""
    args = [
        "smbclient", f"//{ROTATE_HOST}/share", "-I", "127.0.0.1", "-p", str(server.info.port),
        "-U", f"alice@{REALM}", "--use-kerberos=required", f"--use-krb5-ccache=FILE:{ccache}",
        "-m", "SMB3_11", "-s", str(conf), "-c", "ls",
    ]
    return subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", env=kdc.env(ccache), timeout=60)


def keytab_kvnos(path: Path) -> list:
    """The kvnos of cifs/fs-rotate in a keytab, sorted."""
    spn = realm_mod.spn(ROTATE_HOST)
    return sorted({kvno for name, kvno, _etype, _key in realm_mod.keytab_keys(path) if name == spn})


def test_rotation_accepts_tickets_of_both_kvnos(rot_server, kdc, client_conf, tmp_path):
    server = rot_server
    spn = realm_mod.spn(ROTATE_HOST)
    # Before: a ticket of kvno 2, accepted.
    old = fresh_ccache(kdc, tmp_path / "old.ccache")
    assert service_ticket_kvno(kdc, old) == 2
    assert_ok(krb_ls(server, kdc, old, client_conf))

    # The KDC changes the service password: kvno 3. Until the server has the new keys, a
    # kvno 3 ticket is refused (the acceptor tries kvno 2's key, which does not decrypt it).
    kdc.kadmin(f"cpw -pw {NEW_SERVICE_PASSWORD} {spn}")
    early = fresh_ccache(kdc, tmp_path / "early.ccache")
    assert service_ticket_kvno(kdc, early) == 3
    refused = krb_ls(server, kdc, early, client_conf)
    assert refused.returncode != 0, f"a kvno 3 ticket was accepted before the rotation:\n{refused.stdout}"

    # The server's keytab is rotated with the same password, and the server reloads.
    r = run_tool("keytab", "rotate", "--keytab", str(server.keytab), "--principal", spn,
                 "--password", NEW_SERVICE_PASSWORD, "--socket", str(server.admin_socket))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"for {spn} kvno 3 written" in r.stdout and "kept kvno 2" in r.stdout, r.stdout
    assert keytab_kvnos(server.keytab) == [2, 3]
    assert (server.keytab.stat().st_mode & 0o777) == 0o600

    # Both the ticket issued before the change (kvno 2, still cached) and a new one (kvno 3).
    assert_ok(krb_ls(server, kdc, old, client_conf))
    new = fresh_ccache(kdc, tmp_path / "new.ccache")
    assert service_ticket_kvno(kdc, new) == 3
    assert_ok(krb_ls(server, kdc, new, client_conf))
    assert_ok(krb_ls(server, kdc, early, client_conf))
    assert server.info.alive(), tail(server.info.log)


def test_ntlm_change_over_accepts_both_passwords(rot_server):
    server = rot_server
    info = server.info
    sock = str(server.admin_socket)

    def logs_on(password: str) -> subprocess.CompletedProcess:
        return run_smbclient(info, "share", "ls", password=password, dialect="SMB3_11", timeout=60)

    assert_ok(logs_on(NTLM_OLD))
    # A password change keeps the old hash for the default window (24 hours).
    r = run_tool("account", "add", "--config", str(server.config), "--user", "alice", "--password", NTLM_NEW)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "still logs on until" in r.stdout, r.stdout
    assert "previous_nt_hash" in server.config.read_text()
    r = run_tool("reload", "--socket", sock)
    assert r.returncode == 0, r.stdout + r.stderr
    assert_ok(logs_on(NTLM_NEW))
    assert_ok(logs_on(NTLM_OLD))
    assert "NT_STATUS_LOGON_FAILURE" in logs_on("Not-Any-Password-9").stdout

    # A change with no window: only the newest password logs on.
    r = run_tool("account", "add", "--config", str(server.config), "--user", "alice", "--password", NTLM_NEWER,
                 "--keep-old-for", "0")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_tool("reload", "--socket", sock)
    assert r.returncode == 0, r.stdout + r.stderr
    assert_ok(logs_on(NTLM_NEWER))
    for stale in (NTLM_OLD, NTLM_NEW):
        assert "NT_STATUS_LOGON_FAILURE" in logs_on(stale).stdout, stale
    assert info.alive(), tail(info.log)
