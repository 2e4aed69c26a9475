"""impacket (Debian's 0.10) against the server.

impacket.SMBConnection without a preferred dialect opens with an SMB1 NEGOTIATE that lists
"NT LM 0.12", "SMB 2.002" and "SMB 2.???": the server must answer with an SMB2 NEGOTIATE
response (dialect 0x02FF) after which impacket negotiates SMB2 up to 3.0. Encryption on a
share that requires it uses SMB 3.0 with AES-128-CCM.
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from impacket.smb3structs import SMB2_DIALECT_002, SMB2_DIALECT_21, SMB2_DIALECT_30
from impacket.smbconnection import SessionError, SMBConnection

from accounts import nt_hash

DIALECTS = {"wildcard": None, "2.0.2": SMB2_DIALECT_002, "2.1": SMB2_DIALECT_21, "3.0": SMB2_DIALECT_30}
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_LOGON_FAILURE = 0xC000006D
STATUS_BAD_NETWORK_NAME = 0xC00000CC


def connect(server, dialect=None, user="alice", password=None, use_hash=False) -> SMBConnection:
    """A logged-on impacket connection."""
    conn = SMBConnection(server.server_name, server.host, sess_port=server.port, preferredDialect=dialect, timeout=30)
    password = server.accounts[user] if password is None else password
    if use_hash:
        conn.login(user, "", nthash=nt_hash(password))
    else:
        conn.login(user, password)
    return conn


def round_trip(conn: SMBConnection, share: str, directory: str, size: int = 1024 * 1024):
    """putFile/getFile (byte-identical), createDirectory, listPath, rename, deleteFile,
    deleteDirectory."""
    data = os.urandom(size)
    path = f"{directory}\\data.bin"
    conn.putFile(share, path, io.BytesIO(data).read)
    sink = io.BytesIO()
    conn.getFile(share, path, sink.write)
    assert hashlib.sha256(sink.getvalue()).digest() == hashlib.sha256(data).digest()

    conn.createDirectory(share, f"{directory}\\sub")
    entries = {e.get_longname(): e for e in conn.listPath(share, f"{directory}\\*")}
    assert {"data.bin", "sub"} <= set(entries), sorted(entries)
    assert entries["data.bin"].get_filesize() == size
    assert entries["sub"].is_directory()

    conn.rename(share, path, f"{directory}\\sub\\renamed.bin")
    names = {e.get_longname() for e in conn.listPath(share, f"{directory}\\sub\\*")}
    assert "renamed.bin" in names, names
    conn.deleteFile(share, f"{directory}\\sub\\renamed.bin")
    conn.deleteDirectory(share, f"{directory}\\sub")
    names = {e.get_longname() for e in conn.listPath(share, f"{directory}\\*")}
    assert names <= {".", ".."}, names


@pytest.mark.parametrize("dialect", list(DIALECTS.values()), ids=list(DIALECTS))
def test_round_trip(live_server, fresh_dir, dialect):
    conn = connect(live_server, dialect)
    try:
        if dialect is not None:
            assert conn.getDialect() == dialect
        round_trip(conn, "share", fresh_dir)
    finally:
        conn.close()


def test_list_shares(live_server):
    conn = connect(live_server)
    try:
        names = {s["shi1_netname"][:-1] for s in conn.listShares()}
        assert {"share", "enc", "IPC$"} <= names, names
    finally:
        conn.close()


def test_login_with_nt_hash(live_server, fresh_dir):
    """Pass-the-hash logon (NTLMv2 computed from the NT hash) works like the password."""
    conn = connect(live_server, use_hash=True)
    try:
        assert conn.listPath("share", f"{fresh_dir}\\*") is not None
    finally:
        conn.close()


def test_encrypted_share(live_server, make_dir):
    """`enc` over SMB 3.0 (impacket's highest): the client encrypts with AES-128-CCM."""
    directory = make_dir("enc")
    conn = connect(live_server)
    try:
        assert conn.getDialect() == SMB2_DIALECT_30
        round_trip(conn, "enc", directory)
        tree = conn.connectTree("enc")
        assert conn._SMBConnection._Session["TreeConnectTable"][tree]["EncryptData"] is True
    finally:
        conn.close()


def test_encrypted_share_refuses_smb21(live_server):
    conn = connect(live_server, SMB2_DIALECT_21)
    try:
        with pytest.raises(SessionError) as err:
            conn.connectTree("enc")
        assert err.value.getErrorCode() == STATUS_ACCESS_DENIED
    finally:
        conn.close()


def test_wrong_password(live_server):
    with pytest.raises(SessionError) as err:
        connect(live_server, password="wrong")
    assert err.value.getErrorCode() == STATUS_LOGON_FAILURE


def test_unknown_share(live_server):
    conn = connect(live_server)
    try:
        with pytest.raises(SessionError) as err:
            conn.connectTree("nosuchshare")
        assert err.value.getErrorCode() == STATUS_BAD_NETWORK_NAME
    finally:
        conn.close()
