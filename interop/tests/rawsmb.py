"""A small raw SMB2 client for the hostile-client suite (test_hostile.py).

It speaks just enough of MS-SMB2 to misbehave on purpose: Direct TCP framing (2.1, a 4-byte
big-endian length), the sync header (2.2.1.2), NEGOTIATE with the 3.1.1 preauth-integrity and
encryption contexts (2.2.3.1), SESSION_SETUP with raw NTLMSSP tokens (the server takes them
bare, as the Linux kernel client sends them), and TREE_CONNECT, CREATE, QUERY_DIRECTORY, READ,
CLOSE and ECHO requests. Nothing is signed or encrypted: the client offers signing without
requiring it and the test shares do not require encryption, so the server accepts plain
requests (MS-SMB2 3.3.5.2.4).

Every receive has a timeout, so a test never hangs on a server that stops answering.
NTLM tokens come from impacket's `impacket.ntlm` helpers (python3-impacket).
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import select
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

# Commands (MS-SMB2 2.2.1.2).
NEGOTIATE = 0x0000
SESSION_SETUP = 0x0001
LOGOFF = 0x0002
TREE_CONNECT = 0x0003
TREE_DISCONNECT = 0x0004
CREATE = 0x0005
CLOSE = 0x0006
READ = 0x0008
ECHO = 0x000D
QUERY_DIRECTORY = 0x000E

# Header flags.
FLAG_RESPONSE = 0x00000001
FLAG_ASYNC = 0x00000002
FLAG_RELATED = 0x00000004

# NTSTATUS values the suite looks at (MS-ERREF 2.3.1).
STATUS_SUCCESS = 0x00000000
STATUS_PENDING = 0x00000103
STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_NO_MORE_FILES = 0x80000006
STATUS_BUFFER_OVERFLOW = 0x80000005
STATUS_LOGON_FAILURE = 0xC000006D
STATUS_USER_SESSION_DELETED = 0xC0000203

DIALECTS_ALL = (0x0202, 0x0210, 0x0300, 0x0302, 0x0311)
HEADER_LEN = 64
#: The largest length Direct TCP can carry: its length field is 24 bits (MS-SMB2 2.1).
DIRECT_TCP_MAX = 0xFFFFFF
#: The all-ones FileId a related operation uses for "the previous operation's file".
RELATED_FILE_ID = b"\xff" * 16

#: FileIdBothDirectoryInformation (MS-FSCC 2.4.17).
FILE_ID_BOTH_DIRECTORY_INFORMATION = 0x25
QD_RESTART_SCANS = 0x01


class Closed(Exception):
    """The server closed the connection (EOF or reset)."""


class Timeout(Exception):
    """Nothing (or not enough) arrived before the deadline."""


def is_error(status: int) -> bool:
    """Whether an NTSTATUS has the error severity (0xC.......)."""
    return status >> 30 == 3


@dataclass
class Response:
    """One SMB2 response message of a received frame."""

    command: int
    status: int
    flags: int
    message_id: int
    credits: int
    credit_charge: int
    session_id: int
    tree_id: int
    async_id: int
    next_command: int
    #: The whole message, header included (offsets in bodies count from its start).
    msg: bytes

    @property
    def body(self) -> bytes:
        return self.msg[HEADER_LEN:]

    def field(self, fmt: str, offset: int) -> tuple:
        """struct.unpack_from of the body at `offset`."""
        return struct.unpack_from("<" + fmt, self.msg, HEADER_LEN + offset)

    def buffer(self, offset_at: int, length_at: int, length_fmt: str = "I") -> bytes:
        """The variable part of a body given where its 16-bit offset and its length are."""
        (off,) = self.field("H", offset_at)
        (length,) = self.field(length_fmt, length_at)
        return self.msg[off : off + length]


def header(
    command: int,
    message_id: int,
    *,
    credit_charge: int = 1,
    credit_request: int = 256,
    flags: int = 0,
    next_command: int = 0,
    tree_id: int = 0,
    session_id: int = 0,
    status: int = 0,
) -> bytes:
    """An SMB2 sync header (MS-SMB2 2.2.1.2), unsigned."""
    return struct.pack(
        "<4sHHIHHIIQIIQ16s",
        b"\xfeSMB",
        64,
        credit_charge,
        status,
        command,
        credit_request,
        flags,
        next_command,
        message_id,
        0,
        tree_id,
        session_id,
        b"\0" * 16,
    )


def parse_header(msg: bytes) -> Response:
    """The header fields of one response message (`msg` starts at its header)."""
    if len(msg) < HEADER_LEN or msg[:4] != b"\xfeSMB":
        raise ValueError(f"not an SMB2 message: {msg[:8].hex()}")
    (_, _, charge, status, command, credits, flags, next_command, mid, w1, tree_id, session_id) = (
        struct.unpack_from("<4sHHIHHIIQIIQ", msg)
    )
    async_id = 0
    if flags & FLAG_ASYNC:
        (async_id,) = struct.unpack_from("<Q", msg, 32)
        tree_id = 0
    return Response(command, status, flags, mid, credits, charge, session_id, tree_id, async_id,
                    next_command, bytes(msg))


def split_compound(frame: bytes) -> list[Response]:
    """The messages of a received frame, following NextCommand."""
    out = []
    pos = 0
    while True:
        r = parse_header(frame[pos:])
        if r.next_command:
            r.msg = bytes(frame[pos : pos + r.next_command])
            out.append(r)
            pos += r.next_command
        else:
            out.append(r)
            return out


def negotiate_body(
    dialects: Sequence[int] = DIALECTS_ALL,
    *,
    security_mode: int = 1,
    capabilities: int = 0x7F,
    client_guid: Optional[bytes] = None,
    contexts: bool = True,
) -> bytes:
    """A NEGOTIATE request body (MS-SMB2 2.2.3): with 3.1.1 offered and `contexts`, the
    preauth-integrity (SHA-512) and encryption (AES-128-GCM, AES-128-CCM) contexts follow."""
    guid = client_guid or os.urandom(16)
    fixed_len = 36
    dial = b"".join(struct.pack("<H", d) for d in dialects)
    ctx_blob = b""
    ctx_offset = 0
    ctx_count = 0
    if contexts and 0x0311 in dialects:
        pos = HEADER_LEN + fixed_len + len(dial)
        pad = (-pos) % 8
        ctx_offset = pos + pad
        preauth = struct.pack("<HHH", 1, 32, 0x0001) + os.urandom(32)
        ciphers = struct.pack("<HHH", 2, 0x0002, 0x0001)
        items = [(0x0001, preauth), (0x0002, ciphers)]
        parts = []
        for i, (kind, data) in enumerate(items):
            item = struct.pack("<HHI", kind, len(data), 0) + data
            if i + 1 < len(items):
                item += b"\0" * ((-len(item)) % 8)
            parts.append(item)
        ctx_blob = b"\0" * pad + b"".join(parts)
        ctx_count = len(items)
    fixed = struct.pack(
        "<HHHHI16sIHH",
        36,
        len(dialects),
        security_mode,
        0,
        capabilities,
        guid,
        ctx_offset,
        ctx_count,
        0,
    )
    return fixed + dial + ctx_blob


def session_setup_body(token: bytes, *, security_mode: int = 1, previous: int = 0) -> bytes:
    """A SESSION_SETUP request body (MS-SMB2 2.2.5) carrying `token`."""
    return struct.pack("<HBBIIHHQ", 25, 0, security_mode, 0, 0, HEADER_LEN + 24, len(token), previous) + token


def tree_connect_body(unc: str) -> bytes:
    """A TREE_CONNECT request body (MS-SMB2 2.2.9) for `\\\\server\\share`."""
    path = unc.encode("utf-16-le")
    return struct.pack("<HHHH", 9, 0, HEADER_LEN + 8, len(path)) + path


def create_body(
    name: str,
    *,
    access: int = 0x00120089,  # FILE_GENERIC_READ
    disposition: int = 1,  # FILE_OPEN
    options: int = 0,
    attributes: int = 0,
    share: int = 7,
) -> bytes:
    """A CREATE request body (MS-SMB2 2.2.13) without create contexts."""
    raw = name.encode("utf-16-le")
    fixed = struct.pack(
        "<HBBIQQIIIIIHHII",
        57,
        0,
        0,  # no oplock
        2,  # impersonation
        0,
        0,
        access,
        attributes,
        share,
        disposition,
        options,
        HEADER_LEN + 56,
        len(raw),
        0,
        0,
    )
    return fixed + (raw or b"\0")


def query_directory_body(
    file_id: bytes,
    *,
    output_len: int = 65536,
    pattern: str = "*",
    info_class: int = FILE_ID_BOTH_DIRECTORY_INFORMATION,
    flags: int = QD_RESTART_SCANS,
) -> bytes:
    """A QUERY_DIRECTORY request body (MS-SMB2 2.2.33)."""
    raw = pattern.encode("utf-16-le")
    return struct.pack("<HBBI16sHHI", 33, info_class, flags, 0, file_id, HEADER_LEN + 32, len(raw), output_len) + raw


def read_body(file_id: bytes, offset: int, length: int) -> bytes:
    """A READ request body (MS-SMB2 2.2.19) with its one byte of buffer."""
    return struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, length, offset, file_id, 0, 0, 0, 0, 0) + b"\0"


def close_body(file_id: bytes) -> bytes:
    """A CLOSE request body (MS-SMB2 2.2.15)."""
    return struct.pack("<HHI16s", 24, 0, 0, file_id)


def echo_body() -> bytes:
    """An ECHO request body (MS-SMB2 2.2.28)."""
    return struct.pack("<HH", 4, 0)


def sign_hmac_sha256(key: bytes, msg: bytes) -> bytes:
    """`msg` signed the SMB 2.x way (MS-SMB2 3.1.4.1: HMAC-SHA256 over the message with the
    SIGNED flag set and a zero signature, truncated to 16 bytes)."""
    m = bytearray(msg)
    (flags,) = struct.unpack_from("<I", m, 16)
    struct.pack_into("<I", m, 16, flags | 0x00000008)
    m[48:64] = b"\0" * 16
    m[48:64] = hmac.new(key, bytes(m), hashlib.sha256).digest()[:16]
    return bytes(m)


def chain(msgs: Sequence[bytes], key: Optional[bytes] = None) -> bytes:
    """A compound frame payload: every message but the last padded to 8 bytes with its
    NextCommand set (MS-SMB2 3.2.4.1.4); each signed with `key` when given."""
    out = []
    for i, m in enumerate(msgs):
        if i + 1 < len(msgs):
            m = m + b"\0" * ((-len(m)) % 8)
            m = m[:20] + struct.pack("<I", len(m)) + m[24:]
        out.append(sign_hmac_sha256(key, m) if key else m)
    return b"".join(out)


def frame(payload: bytes) -> bytes:
    """`payload` with its Direct TCP length prefix."""
    return struct.pack(">I", len(payload)) + payload


def ntlm_negotiate() -> bytes:
    """A bare NTLMSSP NEGOTIATE (type 1) token, as impacket builds it."""
    from impacket import ntlm

    return ntlm.getNTLMSSPType1("", "", signingRequired=False, use_ntlmv2=True).getData()


def connect(host: str, port: int, timeout: float = 5.0, rcvbuf: Optional[int] = None) -> socket.socket:
    """A TCP connection to the server; `rcvbuf` sets SO_RCVBUF before connecting."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def abort(sock: socket.socket) -> None:
    """Closes `sock` with a reset (SO_LINGER 0), so no TIME_WAIT entry is left behind."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def wait_closed(sock: socket.socket, deadline_s: float) -> Optional[float]:
    """Reads (and discards) until the server closes `sock`; returns the seconds it took, or
    None if it was still open after `deadline_s`."""
    start = time.monotonic()
    end = start + deadline_s
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data = sock.recv(1 << 16)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start
        if not data:
            return time.monotonic() - start


def peer_gone(sock: socket.socket) -> bool:
    """Whether the server has closed or reset `sock`, without reading any queued data."""
    p = select.poll()
    p.register(sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    return any(ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR) for _, ev in p.poll(0))


class RawConn:
    """One connection with message-id and credit bookkeeping.

    `next_mid` is the next message id to use; `granted_end` one past the highest id the server
    has granted (from the credits of every response read so far).
    """

    def __init__(self, host: str, port: int, timeout: float = 10.0, rcvbuf: Optional[int] = None):
        self.sock = connect(host, port, timeout, rcvbuf)
        self.timeout = timeout
        self.next_mid = 0
        self.granted_end = 1
        self.session_id = 0
        self.tree_id = 0
        self.dialect = 0
        self.max_transact = 0
        #: SMB 2.x signing key: when set, every message built is signed with it.
        self.signing_key: Optional[bytes] = None
        self._buf = bytearray()

    # --- sending -----------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        self.sock.settimeout(self.timeout)  # a receive may have left a short one
        self.sock.sendall(data)

    def message(
        self,
        command: int,
        body: bytes,
        *,
        credit_charge: int = 1,
        credit_request: int = 256,
        flags: int = 0,
        next_command: int = 0,
        message_id: Optional[int] = None,
        tree_id: Optional[int] = None,
        session_id: Optional[int] = None,
    ) -> bytes:
        """One request message (not framed); takes `credit_charge` message ids unless
        `message_id` is given."""
        if message_id is None:
            message_id = self.next_mid
            self.next_mid += max(credit_charge, 1)
        msg = header(
            command,
            message_id,
            credit_charge=credit_charge,
            credit_request=credit_request,
            flags=flags,
            next_command=next_command,
            tree_id=self.tree_id if tree_id is None else tree_id,
            session_id=self.session_id if session_id is None else session_id,
        ) + body
        return sign_hmac_sha256(self.signing_key, msg) if self.signing_key else msg

    def send(self, command: int, body: bytes, **kw) -> int:
        """Sends one request in a frame of its own; returns its message id."""
        mid = self.next_mid if kw.get("message_id") is None else kw["message_id"]
        self.send_raw(frame(self.message(command, body, **kw)))
        return mid

    def credits_left(self) -> int:
        """Message ids granted and not used yet (as far as replies read so far tell)."""
        return self.granted_end - self.next_mid

    # --- receiving ---------------------------------------------------------------------

    def _fill(self, n: int, deadline: float) -> None:
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(f"waited for {n} bytes, have {len(self._buf)}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(n - len(self._buf), 1 << 16))
            except socket.timeout:
                raise Timeout(f"waited for {n} bytes, have {len(self._buf)}") from None
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Closed(str(e)) from None
            if not chunk:
                raise Closed("EOF")
            self._buf += chunk

    def recv_frame(self, timeout: Optional[float] = None) -> tuple[int, bytes]:
        """The next frame: (its 32-bit length field as sent, its payload)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(4, deadline)
        (length,) = struct.unpack(">I", self._buf[:4])
        if length > 64 << 20:
            raise ValueError(f"frame length field {length:#x} is absurd")
        self._fill(4 + length, deadline)
        payload = bytes(self._buf[4 : 4 + length])
        del self._buf[: 4 + length]
        return length, payload

    def recv_messages(self, timeout: Optional[float] = None) -> list[Response]:
        """The messages of the next frame, with the credits they grant counted."""
        _, payload = self.recv_frame(timeout)
        msgs = split_compound(payload)
        for m in msgs:
            self.granted_end += m.credits
        return msgs

    def recv(self, timeout: Optional[float] = None) -> Response:
        """The next final response (interim STATUS_PENDING responses are skipped)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            msgs = self.recv_messages(max(deadline - time.monotonic(), 0.001))
            for m in msgs:
                if m.status == STATUS_PENDING and m.flags & FLAG_ASYNC:
                    continue
                return m

    def call(self, command: int, body: bytes, **kw) -> Response:
        """Sends one request and returns its final response."""
        mid = self.send(command, body, **kw)
        r = self.recv()
        if r.message_id != mid:
            raise AssertionError(f"response for message {r.message_id}, expected {mid}")
        return r

    # --- operations --------------------------------------------------------------------

    def negotiate(self, dialects: Sequence[int] = DIALECTS_ALL, credit_request: int = 8192, **kw) -> Response:
        r = self.call(NEGOTIATE, negotiate_body(dialects, **kw), credit_request=credit_request)
        if r.status == STATUS_SUCCESS:
            (self.dialect,) = r.field("H", 4)
            (self.max_transact,) = r.field("I", 28)
        return r

    def session_setup(self, token: bytes, session_id: int = 0, **kw) -> Response:
        return self.call(SESSION_SETUP, session_setup_body(token), session_id=session_id, **kw)

    def login(self, user: str, password: str, domain: str = "", sign: bool = False) -> int:
        """NTLM logon (NTLMv2, raw NTLMSSP tokens); the session becomes this connection's.

        With `sign` (SMB 2.x dialects only) the client requires signing, so the server signs
        every reply, and every later request is signed with the session key."""
        from impacket import ntlm

        if sign and self.dialect >= 0x0300:
            raise ValueError("this client signs only with the SMB 2.x algorithm (HMAC-SHA256)")
        mode = 2 if sign else 1
        t1 = ntlm.getNTLMSSPType1("", domain, signingRequired=sign, use_ntlmv2=True)
        r = self.call(SESSION_SETUP, session_setup_body(t1.getData(), security_mode=mode), session_id=0)
        if r.status != STATUS_MORE_PROCESSING_REQUIRED:
            raise AssertionError(f"NTLM NEGOTIATE leg: status {r.status:#010x}")
        challenge = r.buffer(4, 6, "H")
        t3, key = ntlm.getNTLMSSPType3(t1, challenge, user, password, domain, use_ntlmv2=True)
        r2 = self.call(SESSION_SETUP, session_setup_body(t3.getData(), security_mode=mode), session_id=r.session_id)
        if r2.status != STATUS_SUCCESS:
            raise AssertionError(f"NTLM AUTHENTICATE leg: status {r2.status:#010x}")
        self.session_id = r.session_id
        if sign:
            self.signing_key = bytes(key)
        return self.session_id

    def reauth(self, user: str, password: str, domain: str = "") -> int:
        """Reauthenticates this connection's session (both NTLM legs on its SessionId, MS-SMB2
        3.3.5.5.2) as `user`; returns the final status instead of raising."""
        from impacket import ntlm

        t1 = ntlm.getNTLMSSPType1("", domain, signingRequired=False, use_ntlmv2=True)
        r = self.call(SESSION_SETUP, session_setup_body(t1.getData(), security_mode=1), session_id=self.session_id)
        if r.status != STATUS_MORE_PROCESSING_REQUIRED:
            return r.status
        challenge = r.buffer(4, 6, "H")
        t3, _key = ntlm.getNTLMSSPType3(t1, challenge, user, password, domain, use_ntlmv2=True)
        r2 = self.call(SESSION_SETUP, session_setup_body(t3.getData(), security_mode=1), session_id=self.session_id)
        return r2.status

    def tree_connect(self, host: str, share: str) -> int:
        r = self.call(TREE_CONNECT, tree_connect_body(f"\\\\{host}\\{share}"), tree_id=0)
        if r.status != STATUS_SUCCESS:
            raise AssertionError(f"TREE_CONNECT {share}: status {r.status:#010x}")
        self.tree_id = r.tree_id
        return r.tree_id

    def create(self, name: str, **kw) -> bytes:
        """Opens `name`; returns its FileId."""
        r = self.call(CREATE, create_body(name, **kw))
        if r.status != STATUS_SUCCESS:
            raise AssertionError(f"CREATE {name!r}: status {r.status:#010x}")
        return r.msg[HEADER_LEN + 64 : HEADER_LEN + 80]

    def close(self, file_id: bytes) -> Response:
        return self.call(CLOSE, close_body(file_id))

    def shutdown(self) -> None:
        abort(self.sock)


def open_many(host: str, port: int, count: int, deadline_s: float = 60.0, window: int = 256) -> list[socket.socket]:
    """`count` idle TCP connections (nothing sent), opened with non-blocking connects, at most
    `window` in progress at once: a SYN dropped on a full accept queue is retried by the kernel
    after a second while the others go on. Raises (after closing what it opened) when one
    fails or the deadline passes."""
    done: list[socket.socket] = []
    pending: dict[int, socket.socket] = {}
    poller = select.poll()
    end = time.monotonic() + deadline_s
    try:
        while len(done) < count:
            while len(pending) < window and len(done) + len(pending) < count:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                err = s.connect_ex((host, port))
                if err not in (0, errno.EINPROGRESS):
                    s.close()
                    raise OSError(err, os.strerror(err))
                pending[s.fileno()] = s
                poller.register(s, select.POLLOUT)
            if time.monotonic() > end:
                raise TimeoutError(f"{len(done)} of {count} connections open after {deadline_s:.0f} s")
            for fd, _ev in poller.poll(200):
                s = pending.pop(fd)
                poller.unregister(fd)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    s.close()
                    raise OSError(err, os.strerror(err))
                done.append(s)
    except BaseException:
        close_all(done)
        close_all(pending.values())
        raise
    return done


def server_peers(port: int) -> set[int]:
    """Client ports of the established connections whose server end is on local `port`
    (from `ss`): a connection the client sees as open but the server never accepted (its
    handshake's last ACK was dropped on a full accept queue while SYN cookies were in use) is
    missing here."""
    out = subprocess.run(
        ["ss", "-tnH", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    return {int(line.split()[-1].rsplit(":", 1)[1]) for line in out.splitlines() if line.strip()}


def open_accepted(host: str, port: int, count: int, rounds: int = 5, **kw) -> tuple[list[socket.socket], int]:
    """`count` idle connections the server has accepted: opened with open_many, then any
    the server does not hold (see server_peers) are reset and replaced. Returns the sockets
    and how many had to be replaced."""
    socks = open_many(host, port, count, **kw)
    replaced = 0
    try:
        for _ in range(rounds):
            time.sleep(1.0)  # lets the server drain its accept queue
            held = server_peers(port)
            ghosts = [s for s in socks if s.getsockname()[1] not in held]
            if not ghosts:
                return socks, replaced
            replaced += len(ghosts)
            close_all(ghosts)
            keep = set(map(id, ghosts))
            socks = [s for s in socks if id(s) not in keep]
            socks += open_many(host, port, len(ghosts), **kw)
    except BaseException:
        close_all(socks)
        raise
    close_all(socks)
    raise AssertionError(f"the server still had not accepted every connection after {rounds} rounds")


def close_all(socks: Iterable[socket.socket]) -> None:
    for s in socks:
        abort(s)
