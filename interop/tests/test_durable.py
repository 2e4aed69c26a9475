"""Durable and persistent handles (issue #10) with the PyPI smbprotocol client.

- A durable v2 handle (DH2Q) with an RWH lease outlives its TCP connection: the client writes
  several MiB (acknowledged, never flushed), loses the connection (cut, or a connection
  that just goes silent while the client logs on again with PreviousSessionId), and on a new
  connection with the same ClientGuid reclaims the handle (DH2C with the same lease key): same
  FileId, lease still RWH, every byte there. While it waits, the open keeps its share mode.
- A persistent handle on a continuously available share outlives the server itself: kill -9,
  a restart with the same state_dir, and the client reclaims it (DH2C with the persistent flag)
  with its data; once closed it is gone, from the server and from its journal.
- Refusals: another CreateGuid, another user, a DH2C without the persistent flag for a
  persistent handle; and a conflicting open from another client, which a durable (not
  persistent) handle yields to because the break it needs cannot reach it.

smbprotocol has the create contexts but no reconnect logic, so the tests drive its low-level
API (Connection, Session, TreeConnect, Open). Three gaps are bridged here, each where it is
used: Session.connect never sets PreviousSessionId (logon), Tcp keeps its socket private
(cut), and the receive thread dies on an unsolicited message such as a lease break, so no test
lets the server break a lease held by a live smbprotocol connection.
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import smbprotocol.session
from smbd_server import REPO, OwnServer, ServerInfo, log_dir, tail, toml_str
from smbprotocol.connection import Capabilities, Connection, Dialects
from smbprotocol.create_contexts import (
    SMB2CreateDurableHandleReconnectV2,
    SMB2CreateDurableHandleRequestV2,
    SMB2CreateRequestLeaseV2,
)
from smbprotocol.exceptions import SMBResponseException
from smbprotocol.open import (
    CreateDisposition,
    CreateOptions,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    Open,
    RequestedOplockLevel,
    ShareAccess,
)
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

# NTSTATUS values (MS-ERREF 2.3.1).
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
STATUS_SHARING_VIOLATION = 0xC0000043
STATUS_FILE_NOT_AVAILABLE = 0xC0000467

#: SMB2_LEASE_READ_CACHING | SMB2_LEASE_HANDLE_CACHING | SMB2_LEASE_WRITE_CACHING (2.2.13.2.8).
LEASE_RWH = 0x07
#: SMB2_DHANDLE_FLAG_PERSISTENT (2.2.13.2.11).
DHANDLE_FLAG_PERSISTENT = 0x02
#: What the server gives a DH2Q asking for no particular timeout (Windows' 60 s).
DEFAULT_DURABLE_TIMEOUT_MS = 60_000
HEADER_LEN = 64

READ_WRITE = FilePipePrinterAccessMask.GENERIC_READ | FilePipePrinterAccessMask.GENERIC_WRITE
SHARE_ALL = ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE
SHARE_NONE = 0

FILE_SIZE = 6 * 1024 * 1024 + 4321
CHUNK = 1024 * 1024
CA_SHARE = "ca"
DIALECTS = {"3.0.2": Dialects.SMB_3_0_2, "3.1.1": Dialects.SMB_3_1_1}


# --- the client side -------------------------------------------------------------------------


def connect(server: ServerInfo, client_guid: uuid.UUID, dialect: int = Dialects.SMB_3_1_1) -> Connection:
    """A negotiated connection with `client_guid`, offering leasing and persistent handles as
    Windows does (smbprotocol offers neither by itself; the server does not require them)."""
    conn = Connection(client_guid, server.host, server.port, require_signing=True)
    conn.client_capabilities |= Capabilities.SMB2_GLOBAL_CAP_LEASING | Capabilities.SMB2_GLOBAL_CAP_PERSISTENT_HANDLES
    conn.connect(dialect=dialect, timeout=10)
    return conn


def logon(conn: Connection, user: str, password: str, previous: int = 0) -> Session:
    """An NTLM session (signed, not encrypted) on `conn`; `previous` is the PreviousSessionId
    of the SESSION_SETUP requests (MS-SMB2 2.2.5): the session a reconnecting client had before.

    smbprotocol's Session.connect never sets that field, so while it runs the request class it
    builds is replaced by one that does."""
    session = Session(conn, user, password, require_encryption=False)
    if not previous:
        session.connect()
        return session
    plain = smbprotocol.session.SMB2SessionSetupRequest

    class WithPrevious(plain):
        def __init__(self):
            super().__init__()
            self["previous_session_id"] = previous

    smbprotocol.session.SMB2SessionSetupRequest = WithPrevious
    try:
        session.connect()
    finally:
        smbprotocol.session.SMB2SessionSetupRequest = plain
    return session


def tree_connect(session: Session, server: ServerInfo, share: str) -> TreeConnect:
    tree = TreeConnect(session, f"\\\\{server.host}\\{share}")
    tree.connect()
    return tree


def cut(conn: Connection) -> None:
    """The client's TCP connection ends under it: no LOGOFF, no CLOSE, the socket shut down
    and reset. smbprotocol keeps its socket private (`Tcp._sock`) and closes it politely, so
    SO_LINGER 0 is set on it here first, which turns the close into a RST."""
    sock = conn.transport._sock
    if sock is not None and conn.transport.connected:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            # smbprotocol's receiving thread saw the server go (a crash) and closed the
            # socket meanwhile: the connection is cut already.
            pass
    conn.disconnect(close=False)


def lease(key: bytes, state: int = LEASE_RWH) -> SMB2CreateRequestLeaseV2:
    """SMB2_CREATE_REQUEST_LEASE_V2 (MS-SMB2 2.2.13.2.10) for a lease on `key`."""
    ctx = SMB2CreateRequestLeaseV2()
    ctx["lease_key"] = key
    ctx["lease_state"] = state
    ctx["parent_lease_key"] = b"\0" * 16
    ctx["epoch"] = b"\0\0"
    return ctx


def dh2q(create_guid: uuid.UUID, timeout_ms: int = 0, flags: int = 0) -> SMB2CreateDurableHandleRequestV2:
    """SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2 (MS-SMB2 2.2.13.2.11)."""
    ctx = SMB2CreateDurableHandleRequestV2()
    ctx["timeout"] = timeout_ms
    ctx["flags"] = flags
    ctx["create_guid"] = create_guid
    return ctx


def dh2c(file_id: bytes, create_guid: uuid.UUID, flags: int = 0) -> SMB2CreateDurableHandleReconnectV2:
    """SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2 (MS-SMB2 2.2.13.2.12)."""
    ctx = SMB2CreateDurableHandleReconnectV2()
    ctx["file_id"] = file_id
    ctx["create_guid"] = create_guid
    ctx["flags"] = flags
    return ctx


def response_contexts(body: bytes) -> dict[bytes, bytes]:
    """The create contexts of a CREATE response body (MS-SMB2 2.2.14, 2.2.13.2), name -> data.
    Offsets count from the start of the header, which `body` does not include."""
    offset, length = struct.unpack_from("<II", body, 80)
    out: dict[bytes, bytes] = {}
    if length == 0:
        return out
    pos = offset - HEADER_LEN
    while True:
        nxt, name_off, name_len, _reserved, data_off, data_len = struct.unpack_from("<IHHHHI", body, pos)
        name = body[pos + name_off : pos + name_off + name_len]
        out[name] = body[pos + data_off : pos + data_off + data_len]
        if nxt == 0:
            return out
        pos += nxt


@dataclass
class Created:
    """A successful CREATE: the smbprotocol Open (for READ, WRITE, CLOSE) and what the response
    said."""

    open: Open
    file_id: bytes
    oplock_level: int
    contexts: dict[bytes, bytes]

    def lease_state(self) -> int | None:
        """LeaseState of the SMB2_CREATE_RESPONSE_LEASE_V2 (2.2.14.2.11), None without one."""
        data = self.contexts.get(b"RqLs")
        if data is None:
            return None
        assert len(data) == 52, f"lease response of {len(data)} bytes, a v2 one has 52"
        (state,) = struct.unpack_from("<I", data, 16)
        return state

    def durable_v2(self) -> tuple[int, int] | None:
        """(Timeout, Flags) of the SMB2_CREATE_DURABLE_HANDLE_RESPONSE_V2 (2.2.14.2.12)."""
        data = self.contexts.get(b"DH2Q")
        return None if data is None else struct.unpack_from("<II", data)


def create(
    tree: TreeConnect,
    name: str,
    contexts: Sequence = (),
    *,
    access: int = READ_WRITE,
    share: int = SHARE_NONE,
    disposition: int = CreateDisposition.FILE_OPEN,
) -> Created:
    """A CREATE of the file `name` with `contexts`, asking for a lease when one of them is a
    lease request; raises SMBResponseException when it fails. The response's contexts are read
    from its bytes, by name."""
    f = Open(tree, name)
    wants_lease = any(isinstance(c, SMB2CreateRequestLeaseV2) for c in contexts)
    oplock = RequestedOplockLevel.SMB2_OPLOCK_LEVEL_LEASE if wants_lease else RequestedOplockLevel.SMB2_OPLOCK_LEVEL_NONE
    msg, receive = f.create(
        ImpersonationLevel.Impersonation,
        access,
        0,
        share,
        disposition,
        CreateOptions.FILE_NON_DIRECTORY_FILE,
        create_contexts=list(contexts) or None,
        oplock_level=oplock,
        send=False,
    )
    request = tree.session.connection.send(msg, tree.session.session_id, tree.tree_connect_id)
    receive(request)
    body = request.response["data"].get_value()
    return Created(f, f.file_id, f.oplock_level, response_contexts(body))


def status_of(call: Callable[[], object]) -> int:
    """The NTSTATUS a request failed with, or 0 when it succeeded."""
    try:
        call()
    except SMBResponseException as e:
        return e.status
    return 0


def write_all(f: Open, data: bytes) -> None:
    """WRITE requests of CHUNK bytes, each acknowledged; no FLUSH."""
    for offset in range(0, len(data), CHUNK):
        piece = data[offset : offset + CHUNK]
        assert f.write(piece, offset) == len(piece)


def read_all(f: Open, size: int) -> bytes:
    return b"".join(f.read(offset, min(CHUNK, size - offset)) for offset in range(0, size, CHUNK))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Held:
    """A durable or persistent v2 open with an RWH lease, what reclaims it, and the data it
    wrote."""

    client_guid: uuid.UUID
    lease_key: bytes
    create_guid: uuid.UUID
    file_id: bytes
    name: str
    data: bytes
    session_id: int
    #: The client's old connection while it is left open (not cut yet, or silent).
    silent: Connection | None = None

    def reclaim_contexts(self, create_guid: uuid.UUID | None = None, flags: int = 0) -> list:
        """The contexts of the reconnect: DH2C and the same lease request (MS-SMB2 3.2.4.4)."""
        return [lease(self.lease_key), dh2c(self.file_id, create_guid or self.create_guid, flags)]


def hold_durable(server: ServerInfo, name: str, size: int, silent: bool = False) -> Held:
    """Opens `name` (new) with DH2Q and an RWH lease, writes `size` random bytes, and loses the
    connection: cut, or with `silent` left open without a word (the server cannot tell it is
    dead until the client logs on again with PreviousSessionId)."""
    held = Held(uuid.uuid4(), os.urandom(16), uuid.uuid4(), b"", name, os.urandom(size), 0)
    conn = connect(server, held.client_guid)
    try:
        session = logon(conn, *server.user())
        tree = tree_connect(session, server, "share")
        first = create(tree, name, [lease(held.lease_key), dh2q(held.create_guid)],
                       disposition=CreateDisposition.FILE_CREATE)
        assert first.oplock_level == RequestedOplockLevel.SMB2_OPLOCK_LEVEL_LEASE
        assert first.lease_state() == LEASE_RWH, f"lease state {first.lease_state()}"
        assert first.durable_v2() == (DEFAULT_DURABLE_TIMEOUT_MS, 0), f"DH2Q response {first.durable_v2()}"
        write_all(first.open, held.data)
    except BaseException:
        cut(conn)
        raise
    held.file_id = first.file_id
    held.session_id = session.session_id
    if silent:
        held.silent = conn
    else:
        cut(conn)
    return held


@pytest.fixture
def clients():
    """Factory: `clients(server, client_guid, user=..., previous=..., share=...)` -> a tree
    connect on a new connection, logged on as `user` (default alice), with PreviousSessionId
    `previous`. Every connection made is cut after the test."""
    made: list[Connection] = []

    def make(server: ServerInfo, client_guid: uuid.UUID, user: str = "alice", previous: int = 0,
             share: str = "share", dialect: int = Dialects.SMB_3_1_1) -> TreeConnect:
        conn = connect(server, client_guid, dialect)
        made.append(conn)
        session = logon(conn, *server.user(user), previous=previous)
        return tree_connect(session, server, share)

    yield make
    for conn in made:
        cut(conn)


# --- durable v2 handles and a lost connection ---------------------------------------------------


@pytest.mark.parametrize("silent", [False, True], ids=["reset", "silent-previous-session"])
def test_durable_v2_lease_handle_survives_lost_connection(live_server, fresh_dir, clients, silent):
    """Issue #10: a durable v2 handle with an RWH lease and acknowledged, unflushed writes
    outlives its connection and is reclaimed on a new one with its lease and every byte."""
    name = f"{fresh_dir}\\durable.bin"
    held = hold_durable(live_server, name, FILE_SIZE, silent=silent)
    try:
        tree = clients(live_server, held.client_guid, previous=held.session_id)

        # While it waits, the open keeps its share mode (none): an open of the same client with
        # the same lease key (so no break is due to anyone) is a sharing violation.
        read_only = FilePipePrinterAccessMask.GENERIC_READ
        probe = status_of(lambda: create(tree, name, [lease(held.lease_key)], access=read_only, share=SHARE_ALL))
        assert probe == STATUS_SHARING_VIOLATION, f"open beside the waiting durable handle: {probe:#010x}"

        again = create(tree, name, held.reclaim_contexts())
        assert again.file_id == held.file_id, f"reconnected FileId {again.file_id.hex()}, was {held.file_id.hex()}"
        assert again.oplock_level == RequestedOplockLevel.SMB2_OPLOCK_LEVEL_LEASE
        assert again.lease_state() == LEASE_RWH, f"lease state after the reconnect: {again.lease_state()}"
        back = read_all(again.open, len(held.data))
        assert len(back) == len(held.data) and sha256(back) == sha256(held.data)
        again.open.close()
    finally:
        if held.silent is not None:
            cut(held.silent)
    local = live_server.share_path("share")
    if local is not None:
        assert sha256((local / fresh_dir / "durable.bin").read_bytes()) == sha256(held.data)


def test_reconnect_with_another_create_guid_is_not_found(live_server, fresh_dir, clients):
    """MS-SMB2 3.3.5.9.12: a DH2C whose CreateGuid is not the open's finds nothing; the open
    still waits for the right one."""
    held = hold_durable(live_server, f"{fresh_dir}\\guid.bin", 100_000)
    tree = clients(live_server, held.client_guid, previous=held.session_id)
    wrong = status_of(lambda: create(tree, held.name, held.reclaim_contexts(create_guid=uuid.uuid4())))
    assert wrong == STATUS_OBJECT_NAME_NOT_FOUND, f"DH2C with another CreateGuid: {wrong:#010x}"
    again = create(tree, held.name, held.reclaim_contexts())
    assert again.file_id == held.file_id
    assert sha256(read_all(again.open, len(held.data))) == sha256(held.data)
    again.open.close()


def test_reconnect_as_another_user_is_denied(live_server, fresh_dir, clients):
    """MS-SMB2 3.3.5.9.12: the open's user must be the session's (bob, same ClientGuid, right
    FileId, CreateGuid and lease key: ACCESS_DENIED); alice then reclaims it."""
    held = hold_durable(live_server, f"{fresh_dir}\\user.bin", 100_000)
    bob = clients(live_server, held.client_guid, user="bob")
    denied = status_of(lambda: create(bob, held.name, held.reclaim_contexts()))
    assert denied == STATUS_ACCESS_DENIED, f"DH2C as bob: {denied:#010x}"
    alice = clients(live_server, held.client_guid, previous=held.session_id)
    again = create(alice, held.name, held.reclaim_contexts())
    assert again.file_id == held.file_id
    again.open.close()


def test_conflicting_open_from_another_client_ends_durable_handle(live_server, fresh_dir, clients):
    """Another client (another ClientGuid) opening the file with no sharing needs the waiting
    open's handle caching broken; the break cannot reach it, so the durable (not persistent)
    open is closed and the new open succeeds, as smbtorture's durable-open open2-lease expects
    of Windows. The reconnect then finds nothing."""
    held = hold_durable(live_server, f"{fresh_dir}\\conflict.bin", 100_000)
    other = clients(live_server, uuid.uuid4())
    took = create(other, held.name, access=READ_WRITE, share=SHARE_NONE)
    took.open.close()
    tree = clients(live_server, held.client_guid, previous=held.session_id)
    gone = status_of(lambda: create(tree, held.name, held.reclaim_contexts()))
    assert gone == STATUS_OBJECT_NAME_NOT_FOUND, f"DH2C after the durable open was closed: {gone:#010x}"


# --- persistent handles and a crashed server ----------------------------------------------------


@pytest.fixture
def ca_server(tmp_path, request):
    """A server of this test's own with a continuously available share `ca` beside the usual
    ones, and a state_dir that outlives kill -9 and restarts (OwnServer). Its log's tail is
    printed when the test fails."""
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        pytest.skip("kills and restarts its own server")
    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    if not binary.is_file():
        pytest.fail(f"server binary {binary} missing: run `cargo build --release -p smbd` first")
    base = tmp_path / "server"
    (base / "shares" / CA_SHARE).mkdir(parents=True)
    tables = [
        "[[share]]",
        f"name = {toml_str(CA_SHARE)}",
        f"path = {toml_str(str(base / 'shares' / CA_SHARE))}",
        "continuous_availability = true",
        "",
    ]
    clean = "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]
    log = log_dir() / f"durable-{clean}-{uuid.uuid4().hex[:8]}.log"
    server = OwnServer(binary, base, log, tables=tables)
    server.start()
    yield server
    server.stop()
    print(f"server log {log}:\n{tail(log, 80)}")


def hold_persistent(server: ServerInfo, name: str, dialect: int, size: int) -> Held:
    """Opens `name` (new) on the CA share with a persistent DH2Q and an RWH lease and writes
    `size` random bytes; the connection (`silent`) stays open, for the caller to cut or to lose
    with the server."""
    held = Held(uuid.uuid4(), os.urandom(16), uuid.uuid4(), b"", name, os.urandom(size), 0)
    conn = connect(server, held.client_guid, dialect)
    try:
        assert conn.server_capabilities.has_flag(Capabilities.SMB2_GLOBAL_CAP_PERSISTENT_HANDLES)
        session = logon(conn, *server.user())
        tree = tree_connect(session, server, CA_SHARE)
        assert tree.is_ca_share, "TREE_CONNECT did not report SMB2_SHARE_CAP_CONTINUOUS_AVAILABILITY"
        first = create(tree, name, [lease(held.lease_key), dh2q(held.create_guid, 120_000, DHANDLE_FLAG_PERSISTENT)],
                       disposition=CreateDisposition.FILE_CREATE)
        assert first.durable_v2() == (120_000, DHANDLE_FLAG_PERSISTENT), f"DH2Q response {first.durable_v2()}"
        assert first.lease_state() == LEASE_RWH, f"lease state {first.lease_state()}"
        write_all(first.open, held.data)
    except BaseException:
        cut(conn)
        raise
    held.file_id = first.file_id
    held.session_id = session.session_id
    held.silent = conn
    return held


def crash_and_restart(ca_server: OwnServer, held: Held) -> ServerInfo:
    """kill -9 of the server under the client's connection, then the same server (config,
    state_dir) started again."""
    ca_server.kill()
    if held.silent is not None:
        cut(held.silent)  # what is left of it on the client's side
        held.silent = None
    return ca_server.start()


@pytest.mark.parametrize("dialect", list(DIALECTS.values()), ids=list(DIALECTS))
def test_persistent_handle_survives_kill_9(ca_server, clients, dialect):
    """Issue #10: a persistent handle on a CA share is reclaimed after kill -9 and a restart,
    with its lease and every acknowledged byte; closed, it is gone for good."""
    info = ca_server.info()
    held = hold_persistent(info, "persistent.bin", dialect, FILE_SIZE)
    info = crash_and_restart(ca_server, held)

    tree = clients(info, held.client_guid, previous=held.session_id, share=CA_SHARE, dialect=dialect)
    # MS-SMB2 3.3.5.9.12: a persistent open is reconnected only by a DH2C with the flag.
    plain = status_of(lambda: create(tree, held.name, held.reclaim_contexts(flags=0)))
    assert plain == STATUS_OBJECT_NAME_NOT_FOUND, f"DH2C without the persistent flag: {plain:#010x}"
    again = create(tree, held.name, held.reclaim_contexts(flags=DHANDLE_FLAG_PERSISTENT))
    assert again.file_id == held.file_id, f"reconnected FileId {again.file_id.hex()}, was {held.file_id.hex()}"
    assert again.lease_state() == LEASE_RWH, f"lease state after the restart: {again.lease_state()}"
    back = read_all(again.open, len(held.data))
    assert len(back) == len(held.data) and sha256(back) == sha256(held.data)
    assert sha256((ca_server.root / CA_SHARE / held.name).read_bytes()) == sha256(held.data)
    again.open.close()

    # Closed, the handle is gone: another client opens the file with no sharing...
    other = clients(info, uuid.uuid4(), share=CA_SHARE, dialect=dialect)
    create(other, held.name, access=READ_WRITE, share=SHARE_NONE).open.close()
    # ...and the journal no longer holds it: after another crash nothing waits to be reclaimed.
    ca_server.kill()
    info = ca_server.start()
    tree = clients(info, held.client_guid, share=CA_SHARE, dialect=dialect)
    gone = status_of(lambda: create(tree, held.name, held.reclaim_contexts(flags=DHANDLE_FLAG_PERSISTENT)))
    assert gone == STATUS_OBJECT_NAME_NOT_FOUND, f"DH2C of a closed persistent handle: {gone:#010x}"


@pytest.mark.parametrize("crash", [True, False], ids=["after-kill-9", "after-lost-connection"])
def test_persistent_handle_waiting_refuses_other_opens(ca_server, clients, crash):
    """MS-SMB2 3.3.5.9: on 3.x, a CREATE (not a reconnect) of a file with a persistent open
    waiting for its client (Open.IsPersistent, Open.Connection NULL) SHOULD fail with
    STATUS_FILE_NOT_AVAILABLE; the handle stays for its owner, who reclaims it with its data.
    The open waits after a restart of the server, or after its connection was lost."""
    info = ca_server.info()
    held = hold_persistent(info, "waiting.bin", Dialects.SMB_3_1_1, 100_000)
    if crash:
        info = crash_and_restart(ca_server, held)
    else:
        cut(held.silent)
    other = clients(info, uuid.uuid4(), share=CA_SHARE)
    refused = status_of(lambda: create(other, held.name, access=READ_WRITE, share=SHARE_NONE))
    assert refused == STATUS_FILE_NOT_AVAILABLE, f"open beside a waiting persistent handle: {refused:#010x}"
    tree = clients(info, held.client_guid, previous=held.session_id, share=CA_SHARE)
    again = create(tree, held.name, held.reclaim_contexts(flags=DHANDLE_FLAG_PERSISTENT))
    assert sha256(read_all(again.open, len(held.data))) == sha256(held.data)
    again.open.close()
