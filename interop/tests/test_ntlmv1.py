"""`allow_ntlmv1` with a real client: Samba's smbclient told not to use NTLMv2 (`client ntlmv2
auth = no`) sends NTLMv1 responses, with extended session security by default and without it
under `ntlmssp_client:ntlm2 = no`. A server with the default configuration refuses both; one
with `allow_ntlmv1 = true` accepts both, right password only (the default signing policy is
"required", so the SMB session is signed with the NTLMv1 session key).

Environment: SMBD_BIN as for the other suites; SMBD_TEST_EXTERNAL skips (the tests start
servers with their own configuration).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from accounts import ACCOUNTS
from helpers import assert_ok, run_smbclient
from smbd_server import REPO, SERVER_NAME, ServerInfo, StartError, log_dir, prepare_root, start_server, stop

#: smbclient options that make it answer with NTLMv1 (with extended session security).
V1_ESS = ("--option=client ntlmv2 auth = no",)
#: The same without extended session security (plain NTLMv1, DES over the server challenge).
V1_PLAIN = (*V1_ESS, "--option=ntlmssp_client:ntlm2 = no")


def _server(tmp_path_factory, name: str, top: list):
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        pytest.skip("needs servers started here with their own configuration")
    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    if not binary.is_file():
        pytest.fail(f"server binary {binary} missing: run `cargo build --release -p smbd` first")
    base = tmp_path_factory.mktemp(name)
    root, state = base / "shares", base / "state"
    state.mkdir()
    prepare_root(root)
    log = log_dir() / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        proc, port = start_server(binary, root, state, log, top_level=top)
    except StartError as e:
        pytest.fail(f"the server does not start: {e}")
    return ServerInfo("127.0.0.1", port, SERVER_NAME, dict(ACCOUNTS), root=root, log=log, process=proc)


@pytest.fixture(scope="module")
def default_server(tmp_path_factory):
    info = _server(tmp_path_factory, "smbd-ntlmv1-off", [])
    try:
        yield info
    finally:
        stop(info.process)


@pytest.fixture(scope="module")
def v1_server(tmp_path_factory):
    info = _server(tmp_path_factory, "smbd-ntlmv1-on", ["allow_ntlmv1 = true"])
    try:
        yield info
    finally:
        stop(info.process)


@pytest.mark.parametrize("options", [V1_ESS, V1_PLAIN], ids=["ess", "plain"])
def test_ntlmv1_refused_by_default(default_server, options):
    out = run_smbclient(default_server, "share", "ls", extra=options, timeout=60)
    assert out.returncode != 0 and "NT_STATUS_" in out.stdout, out.stdout
    # NTLMv2 still works on the same server.
    assert_ok(run_smbclient(default_server, "share", "ls", timeout=60))


@pytest.mark.parametrize("options", [V1_ESS, V1_PLAIN], ids=["ess", "plain"])
def test_ntlmv1_accepted_when_allowed(v1_server, options):
    assert_ok(run_smbclient(v1_server, "share", "ls", extra=options, timeout=60))
    # A client that insists on NTLMSSP signing checks the SPNEGO mechListMIC: HMAC-MD5 with
    # ESS, RC4 over a CRC-32 without it (MS-NLMP 3.4.4.1).
    assert_ok(run_smbclient(v1_server, "share", "ls", extra=options, protection="sign", timeout=60))
    wrong = run_smbclient(v1_server, "share", "ls", extra=options, password="Not-The-Pass", timeout=60)
    assert "NT_STATUS_LOGON_FAILURE" in wrong.stdout, wrong.stdout
    # The audit line of the logon names the method.
    assert "auth=ntlmv1" in v1_server.log.read_text()
