"""The audit log (`audit = "json"`, `audit_file`) with Debian's smbclient: a good logon, a
failed one, a share connected, a write refused on a read-only share, and the logoff each give
one JSON line with the Windows security event id, who, from where, what and the status; no
line carries a password.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from accounts import ACCOUNTS
from helpers import assert_ok, run_smbclient
from smbd_server import SERVER_NAME, REPO, ServerInfo, StartError, log_dir, prepare_root, start_server, stop

WRONG_PASSWORD = "Not-Alices-Password-9"


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A server writing JSON audit lines to a file; yields (server, audit file)."""
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        pytest.skip("needs a server started with an audit file (SMBD_TEST_EXTERNAL is set)")
    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    base = tmp_path_factory.mktemp("smbd-audit")
    root, state = base / "shares", base / "state"
    state.mkdir()
    prepare_root(root)
    audit = base / "audit.jsonl"
    log = log_dir() / f"smbd-audit-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        proc, port = start_server(binary, root, state, log,
                                  top_level=['audit = "json"', f'audit_file = "{audit}"'])
    except StartError as e:
        pytest.fail(str(e))
    info = ServerInfo("127.0.0.1", port, SERVER_NAME, dict(ACCOUNTS), root=root, log=log, process=proc)
    try:
        yield info, audit
    finally:
        stop(proc)


def events(audit: Path) -> list[dict]:
    return [json.loads(line) for line in audit.read_text().splitlines() if line.strip()]


def wait_for(audit: Path, pred, timeout: float = 10.0) -> dict:
    """The first audit event matching `pred`, waited for (a logoff follows the client's exit)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in events(audit) if pred(e)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no such audit event in:\n{audit.read_text()}"
        time.sleep(0.1)


def test_logons_share_access_denials_and_logoffs_are_audited(audited, tmp_path):
    server, audit = audited
    src = tmp_path / "f.txt"
    src.write_text("audit me\n")
    assert_ok(run_smbclient(server, "share", "ls"))
    bad = run_smbclient(server, "share", "ls", password=WRONG_PASSWORD)
    assert bad.returncode != 0
    denied = run_smbclient(server, "ro", f'put "{src}" f.txt')
    assert "ACCESS_DENIED" in denied.stdout or "MEDIA_WRITE_PROTECTED" in denied.stdout, denied.stdout

    logon = wait_for(audit, lambda e: e["event"] == 4624 and e["user"] == "alice")
    assert logon["success"] is True and logon["sid"].startswith("S-1-5-")
    assert logon["client"].startswith("127.0.0.1:") and logon["auth"] == "ntlmv2"
    assert logon["dialect"] == "3.1.1" and logon["status"] == "SUCCESS"

    failed = wait_for(audit, lambda e: e["event"] == 4625)
    assert failed["success"] is False and failed["user"] == "alice"
    assert failed["reason"] == "logon_failure" and failed["status_code"] == "0xC000006D"

    share = wait_for(audit, lambda e: e["event"] == 5140 and e.get("share") == "share")
    assert share["success"] is True and share["user"] == "alice"

    refused = wait_for(audit, lambda e: e["event"] == 5145)
    assert refused["share"] == "ro" and refused["path"] == "f.txt" and refused["command"] == "create"
    assert refused["success"] is False and refused["user"] == "alice"

    logoff = wait_for(audit, lambda e: e["event"] == 4634 and e["user"] == "alice")
    assert logoff["session"] == logon["session"] or logoff["session"].startswith("0x")

    text = audit.read_text()
    for secret in (ACCOUNTS["alice"], WRONG_PASSWORD):
        assert secret not in text, "an audit line carries a password"
