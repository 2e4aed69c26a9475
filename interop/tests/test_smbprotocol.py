"""The PyPI smbprotocol client against the server: SMB 3.1.1 with encryption, once per cipher.

smbprotocol lets a caller choose the ciphers it offers (Connection.connect's
preferred_encryption_algos); offering a single cipher forces the server to pick it or fail.
The high-level `smbclient` API then runs over that connection through a private
connection cache.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
import smbclient
from smbprotocol.connection import Ciphers, Connection, Dialects
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

CIPHERS = {
    "AES-128-CCM": Ciphers.AES_128_CCM,
    "AES-128-GCM": Ciphers.AES_128_GCM,
    "AES-256-CCM": Ciphers.AES_256_CCM,
    "AES-256-GCM": Ciphers.AES_256_GCM,
}
FILE_SIZE = 3 * 1024 * 1024 + 12345


def connect(server, cipher=None, dialect=Dialects.SMB_3_1_1) -> Connection:
    """A negotiated Connection offering only `cipher` (all ciphers when None)."""
    conn = Connection(uuid.uuid4(), server.host, server.port, require_signing=True)
    conn.connect(dialect=dialect, timeout=30, preferred_encryption_algos=[cipher] if cipher else None)
    return conn


@pytest.fixture
def pooled(live_server):
    """Factory: a connection cache holding a connection that offers one cipher, with an
    encrypted session for alice registered on it. Everything is closed after the test."""
    caches = []

    def make(cipher=None, encrypt=True):
        conn = connect(live_server, cipher)
        cache = {f"{live_server.host.lower()}:{live_server.port}": conn}
        caches.append(cache)
        user, password = live_server.user()
        session = smbclient.register_session(
            live_server.host, user, password, port=live_server.port, encrypt=encrypt, connection_cache=cache
        )
        return conn, session, cache

    yield make
    for cache in caches:
        smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)


def unc(server, share, *parts) -> str:
    return "\\".join([f"\\\\{server.host}", share, *parts])


def round_trip(server, cache, share, directory):
    """Write, read back, list, rename, delete through the high-level API."""
    kw = {"port": server.port, "connection_cache": cache}
    data = os.urandom(FILE_SIZE)
    path = unc(server, share, directory, "data.bin")
    with smbclient.open_file(path, mode="wb", **kw) as f:
        f.write(data)
    with smbclient.open_file(path, mode="rb", **kw) as f:
        back = f.read()
    assert len(back) == len(data) and hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
    assert smbclient.stat(path, **kw).st_size == FILE_SIZE

    smbclient.mkdir(unc(server, share, directory, "sub"), **kw)
    assert sorted(smbclient.listdir(unc(server, share, directory), **kw)) == ["data.bin", "sub"]

    renamed = unc(server, share, directory, "sub", "renamed.bin")
    smbclient.rename(path, renamed, **kw)
    assert smbclient.listdir(unc(server, share, directory, "sub"), **kw) == ["renamed.bin"]
    with smbclient.open_file(renamed, mode="rb", **kw) as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()

    smbclient.remove(renamed, **kw)
    smbclient.rmdir(unc(server, share, directory, "sub"), **kw)
    assert smbclient.listdir(unc(server, share, directory), **kw) == []


@pytest.mark.parametrize("cipher", list(CIPHERS.values()), ids=list(CIPHERS))
def test_encrypted_round_trip_per_cipher(live_server, fresh_dir, pooled, cipher):
    conn, session, cache = pooled(cipher)
    assert conn.dialect == Dialects.SMB_3_1_1
    assert conn.cipher_id == cipher, f"server chose cipher {conn.cipher_id}"
    assert session.encrypt_data
    round_trip(live_server, cache, "share", fresh_dir)


def test_default_offer_on_required_share(live_server, make_dir, pooled):
    """All ciphers offered, session not asking for encryption: the `enc` share turns it on."""
    conn, session, cache = pooled(None, encrypt=False)
    assert conn.dialect == Dialects.SMB_3_1_1
    assert conn.cipher_id in CIPHERS.values()
    round_trip(live_server, cache, "enc", make_dir("enc"))


@pytest.mark.parametrize("dialect", [Dialects.SMB_3_0_0, Dialects.SMB_3_0_2], ids=["3.0.0", "3.0.2"])
def test_smb30_encryption(live_server, fresh_dir, dialect):
    """SMB 3.0.x encrypts with AES-128-CCM (no cipher negotiation)."""
    conn = connect(live_server, dialect=dialect)
    try:
        assert conn.dialect == dialect
        user, password = live_server.user()
        session = Session(conn, user, password, require_encryption=True)
        session.connect()
        assert session.encrypt_data
        tree = TreeConnect(session, unc(live_server, "share"))
        tree.connect()
        f = Open(tree, f"{fresh_dir}\\x.bin")
        f.create(
            ImpersonationLevel.Impersonation,
            FilePipePrinterAccessMask.GENERIC_READ | FilePipePrinterAccessMask.GENERIC_WRITE
            | FilePipePrinterAccessMask.DELETE,
            0,
            ShareAccess.FILE_SHARE_READ,
            CreateDisposition.FILE_CREATE,
            CreateOptions.FILE_NON_DIRECTORY_FILE | CreateOptions.FILE_DELETE_ON_CLOSE,
        )
        data = os.urandom(200_000)
        f.write(data, 0)
        assert f.read(0, len(data)) == data
        f.close()
        tree.disconnect()
    finally:
        conn.disconnect()


@pytest.mark.parametrize(
    "name",
    ["..\\..\\etc\\passwd", "..\\secret", "a\\..\\..\\etc\\passwd", "..", "\\..\\etc\\passwd"],
)
def test_dotdot_open_refused(live_server, name):
    """Raw `..` components (smbprotocol does not fold them) never open a file outside the share."""
    conn = connect(live_server)
    try:
        user, password = live_server.user()
        session = Session(conn, user, password)
        session.connect()
        tree = TreeConnect(session, unc(live_server, "share"))
        tree.connect()
        f = Open(tree, name)
        with pytest.raises(SMBResponseException) as err:
            f.create(
                ImpersonationLevel.Impersonation,
                FilePipePrinterAccessMask.GENERIC_READ,
                0,
                ShareAccess.FILE_SHARE_READ,
                CreateDisposition.FILE_OPEN,
                0,
            )
        assert err.value.status in STATUS_REFUSED, f"{err.value.status:#010x}: {err.value}"
    finally:
        conn.disconnect()


#: The NTSTATUS values of helpers.ESCAPE_REFUSED (MS-ERREF 2.3.1). Samba answers
#: OBJECT_PATH_SYNTAX_BAD for every one of these names.
STATUS_REFUSED = {
    0xC0000022,  # STATUS_ACCESS_DENIED
    0xC000003B,  # STATUS_OBJECT_PATH_SYNTAX_BAD
    0xC0000033,  # STATUS_OBJECT_NAME_INVALID
    0xC000003A,  # STATUS_OBJECT_PATH_NOT_FOUND
    0xC0000034,  # STATUS_OBJECT_NAME_NOT_FOUND
    # A name with a leading backslash is refused before it is resolved (MS-SMB2 3.3.5.9;
    # smbtorture smb2.create.leading-slash expects this status).
    0xC000000D,  # STATUS_INVALID_PARAMETER
}
