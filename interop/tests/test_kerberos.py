"""Kerberos against the server: a private MIT realm (kdc.py), Debian's smbclient (Samba's
Heimdal), impacket's ticketer.py for PACs with chosen SIDs, and a raw AP-REQ client (impacket's
ASN.1 and crypto) for the cases no real client will produce: replay, expired or tampered
tickets, a skewed authenticator, truncated tokens.

The server runs with this module's own config: the realm's keytabs, `clock_skew_seconds = 300`,
an admin socket for `smbd-tools status --json`, and a [[principal]] mapping for alice (an MIT
ticket's PAC has no LOGON_INFO). Every refusal is followed by an NTLM smbclient `ls` to show
that the server still serves.

Environment: SMBD_BIN as for the other suites; SMBD_TOOLS_BIN for the admin CLI (default
target/release/smbd-tools); SMBD_TEST_EXTERNAL makes these tests skip (they need a server
started with this realm's keytab).
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import pytest
from pyasn1.codec.der import decoder, encoder
from pyasn1.type.univ import noValue

from impacket.krb5 import constants
from impacket.krb5.asn1 import (
    AD_IF_RELEVANT,
    AP_REQ,
    KRB_ERROR,
    TGS_REP,
    Authenticator,
    Ticket as TicketAsn1,
    EncTicketPart,
    seq_set,
)
from impacket.krb5.ccache import CCache
from impacket.krb5.crypto import Key, _enctype_table, string_to_key
from impacket.krb5.gssapi import (
    GSS_C_CONF_FLAG,
    GSS_C_INTEG_FLAG,
    GSS_C_MUTUAL_FLAG,
    GSS_C_REPLAY_FLAG,
    GSS_C_SEQUENCE_FLAG,
    CheckSumField,
)
from impacket.krb5.types import KerberosTime, Principal, Ticket
from impacket.nt_errors import STATUS_LOGON_FAILURE, STATUS_MORE_PROCESSING_REQUIRED, STATUS_SUCCESS
from impacket.smb3structs import (
    SMB2_DIALECT_30,
    SMB2_NEGOTIATE_SIGNING_ENABLED,
    SMB2_SESSION_SETUP,
    SMB2SessionSetup,
    SMB2SessionSetup_Response,
)
from impacket.smbconnection import SMBConnection
from impacket.spnego import SPNEGO_NegTokenInit, SPNEGO_NegTokenResp, TypesMech

import kdc as realm_mod
from helpers import assert_ok, random_file, run_smbclient, sha256_file
from kdc import AES256, HOST, KVNO, OTHER_HOST, REALM, WRONGKEY_HOST, kdc  # noqa: F401 (kdc: the fixture)
from smbd_server import REPO, SERVER_NAME, ServerInfo, StartError, log_dir, prepare_root, start_server, stop, tail
from accounts import ACCOUNTS

pytestmark = pytest.mark.kerberos

STATUS_INVALID_PARAMETER = 0xC000000D
#: The well-known SIDs every network logon carries (MS-DTYP 2.4.2.4): Everyone, Network,
#: Authenticated Users, This Organization.
WELL_KNOWN = {"S-1-1-0", "S-1-5-2", "S-1-5-11", "S-1-5-15"}
#: alice's identity in the server's [[principal]] table.
ALICE_SID = "S-1-5-21-1-2-3-1105"
ALICE_GROUPS = ["S-1-5-21-1-2-3-513", "S-1-5-21-1-2-3-1300"]
#: The PAC that ticketer.py mints (carol does not exist in the KDC: a "silver ticket").
PAC_USER = "carol"
PAC_DOMAIN_SID = "S-1-5-21-1111-2222-3333"
PAC_USER_ID = 120003  # distinctive little-endian bytes, found and changed by the tamper test
PAC_GROUPS = [513, 1200, 1201]
PAC_EXTRA_SIDS = ["S-1-5-21-4444-5555-6666-7001", "S-1-5-21-4444-5555-6666-7002"]
ROUND_TRIP_SIZE = 3 * 1024 * 1024
KRB5_OID = bytes.fromhex("2a864886f712010202")  # 1.2.840.113554.1.2.2
KRB_AP_ERR_SKEW = 37
STATUS_WAIT_S = 10.0


# ---------------------------------------------------------------------------------------------
# The server under test, with Kerberos configured.


@dataclass
class KrbServer:
    """The Kerberos-enabled server and how to reach its admin socket."""

    info: ServerInfo
    admin_socket: Path

    @property
    def port(self) -> int:
        """Its TCP port on 127.0.0.1."""
        return self.info.port


def _kerberos_config(realm) -> tuple[list, list]:
    top = [
        f"keytabs = [{_toml(realm.keytab)}, {_toml(realm.wrong_keytab)}]",
        "allow_rc4 = false",
        "clock_skew_seconds = 300",
    ]
    tables = [
        "[[principal]]",
        f'name = "alice@{REALM}"',
        f'sid = "{ALICE_SID}"',
        "groups = [" + ", ".join(f'"{g}"' for g in ALICE_GROUPS) + "]",
        "",
    ]
    return top, tables


def _toml(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def krb_server(kdc, tmp_path_factory) -> KrbServer:
    """The server started with the realm's keytabs, alice's mapping and an admin socket."""
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        pytest.skip("the Kerberos tests need a server started with the test realm's keytab "
                    "(SMBD_TEST_EXTERNAL is set)")
    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    if not binary.is_file():
        pytest.fail(f"server binary {binary} missing: run `cargo build --release -p smbd` first")
    base = tmp_path_factory.mktemp("smbd-krb")
    root, state = base / "shares", base / "state"
    state.mkdir()
    prepare_root(root)
    sock = state / "admin.sock"
    top, tables = _kerberos_config(kdc)
    top.append(f"admin_socket = {_toml(sock)}")
    log = log_dir() / f"smbd-krb-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        proc, port = start_server(binary, root, state, log, top_level=top, tables=tables)
    except StartError as e:
        pytest.fail(f"the server does not start with the Kerberos config keys: {e}")
    info = ServerInfo("127.0.0.1", port, SERVER_NAME, dict(ACCOUNTS), root=root, log=log, process=proc)
    try:
        yield KrbServer(info, sock)
    finally:
        stop(proc)


@pytest.fixture
def live(krb_server) -> KrbServer:
    """The Kerberos server, checked to still be running."""
    info = krb_server.info
    assert info.alive(), f"server exited (code {info.process.returncode}):\n{tail(info.log)}"
    return krb_server


@pytest.fixture(scope="module")
def client_conf(tmp_path_factory) -> Path:
    """An smb.conf for smbclient so that the machine's /etc/samba/smb.conf plays no part."""
    conf = tmp_path_factory.mktemp("smbclient-krb") / "smb.conf"
    conf.write_text(
        "[global]\n    workgroup = EXAMPLE\n    realm = EXAMPLE.TEST\n    client min protocol = SMB2_02\n"
    )
    return conf


@pytest.fixture
def work_dir(live) -> str:
    """A fresh empty directory in `share` (its name)."""
    name = f"k_{uuid.uuid4().hex[:10]}"
    local = live.info.share_path("share") / name
    local.mkdir(mode=0o777)
    os.chmod(local, 0o777)
    return name


@pytest.fixture
def ccache(kdc, tmp_path) -> Path:
    """A private copy of alice's TGT cache for one test (mode 0600)."""
    path = tmp_path / "alice.ccache"
    shutil.copyfile(kdc.ccache, path)
    os.chmod(path, 0o600)
    return path


# ---------------------------------------------------------------------------------------------
# Clients.


def krb_smbclient(
    server: KrbServer,
    realm,
    ccache: Path,
    commands: Optional[str],
    *,
    host: str = HOST,
    user: str = "alice",
    protection: Optional[str] = None,
    conf: Optional[Path] = None,
    prefix: Sequence[str] = (),
    stdin=subprocess.DEVNULL,
    timeout: float = 60,
):
    """smbclient with Kerberos only, `//host/share` reached at 127.0.0.1 (-I), the ticket cache
    `ccache` and the realm's krb5.conf. With `stdin=subprocess.PIPE` returns the Popen."""
    args = list(prefix) + [
        "smbclient", f"//{host}/share", "-I", "127.0.0.1", "-p", str(server.port),
        "-U", f"{user}@{REALM}", "--use-kerberos=required", f"--use-krb5-ccache=FILE:{ccache}",
        "-m", "SMB3_11",
    ]
    if conf is not None:
        args += ["-s", str(conf)]
    if protection:
        args.append(f"--client-protection={protection}")
    if commands is not None:
        args += ["-c", commands]
    env = realm.env(ccache)
    if stdin == subprocess.PIPE:
        return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=env)
    return subprocess.run(args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", env=env, timeout=timeout)


def assert_refused(result, *statuses: str) -> str:
    """smbclient failed with one of `statuses` (default NT_STATUS_LOGON_FAILURE)."""
    statuses = statuses or ("NT_STATUS_LOGON_FAILURE",)
    out = result.stdout
    assert result.returncode != 0, f"expected a refusal, smbclient succeeded:\n{out}"
    assert any(s in out for s in statuses), f"expected one of {statuses}:\n{out}"
    return out


def assert_still_serving(server: KrbServer, conf: Optional[Path] = None) -> None:
    """An NTLM smbclient `ls` on `share` works (the server survived what came before)."""
    info = server.info
    assert info.alive(), f"server exited (code {info.process.returncode}):\n{tail(info.log)}"
    assert_ok(run_smbclient(info, "share", "ls", dialect="SMB3_11", conf=conf, timeout=60))


def tools_binary() -> Path:
    """The admin CLI (fails the test when it is missing)."""
    path = Path(os.environ.get("SMBD_TOOLS_BIN", REPO / "target" / "release" / "smbd-tools"))
    if not path.is_file():
        pytest.fail(f"admin CLI {path} missing: run `cargo build --release -p tools` first")
    return path


def status_sessions(server: KrbServer) -> list:
    """`smbd-tools status --socket S --sessions --json`: one dict per session."""
    out = subprocess.run(
        [str(tools_binary()), "status", "--socket", str(server.admin_socket), "--sessions", "--json"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, f"smbd-tools status exited {out.returncode}:\n{out.stdout}{out.stderr}"
    try:
        return json.loads(out.stdout)["sessions"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        pytest.fail(f"smbd-tools status --json printed no object with sessions ({e}): {out.stdout!r}")


def open_session_status(server: KrbServer, realm, ccache: Path, user: str, conf: Path, *,
                        host: str = HOST, protection: Optional[str] = None) -> dict:
    """Keeps an smbclient Kerberos session open (commands on stdin) until `status` lists it as a
    Kerberos session of `user`; returns that session's JSON object."""
    proc = krb_smbclient(server, realm, ccache, None, user=user, conf=conf, stdin=subprocess.PIPE,
                         host=host, protection=protection)
    try:
        proc.stdin.write("ls\n")
        proc.stdin.flush()
        deadline = time.monotonic() + STATUS_WAIT_S
        seen: list = []
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"smbclient exited {proc.returncode} before its session was listed:\n"
                            f"{proc.stdout.read()}")
            seen = status_sessions(server)
            for s in seen:
                if s.get("auth") == "kerberos" and str(s.get("user", "")).lower().startswith(user):
                    return s
            time.sleep(0.1)
        pytest.fail(f"no Kerberos session of {user} in `smbd-tools status` after {STATUS_WAIT_S} s: {seen}")
    finally:
        try:
            proc.stdin.write("quit\n")
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# ticketer.py and the service key.


def service_key(host: str = HOST, etype: int = 18, password: str = realm_mod.SERVICE_PASSWORD) -> Key:
    """The key of cifs/host from its password and default salt (RFC 3962 string-to-key,
    impacket's implementation; checked against kadmin's keytab in test_service_key_derivation)."""
    salt = f"{REALM}cifs{host}"
    return string_to_key(etype, password, salt)


def ticketer_script() -> Path:
    """impacket's ticketer.py as Debian ships it."""
    candidates = [
        "/usr/share/doc/python3-impacket/examples/ticketer.py",
        *glob.glob("/usr/share/doc/python3-impacket/examples/ticketer.py*"),
        *glob.glob("/usr/lib/python3/dist-packages/impacket/examples/ticketer.py"),
    ]
    for c in candidates:
        if c.endswith(".py") and Path(c).is_file():
            return Path(c)
    pytest.fail("impacket's ticketer.py not found (python3-impacket's examples): run interop/setup.sh")


def mint_ticket(realm, out_dir: Path, *, user: str = PAC_USER, duration_days: int = 3650,
                faketime: Optional[str] = None, key: Optional[Key] = None) -> Path:
    """A service ticket for cifs/fs.example.test with the PAC_* SIDs, from ticketer.py, in a
    0600 ccache; `faketime` (e.g. "-2d") runs ticketer with a shifted clock."""
    key = key or service_key()
    args = [
        sys.executable, str(ticketer_script()), "-aesKey", key.contents.hex(),
        "-domain-sid", PAC_DOMAIN_SID, "-domain", REALM, "-spn", f"cifs/{HOST}",
        "-user-id", str(PAC_USER_ID), "-groups", ",".join(map(str, PAC_GROUPS)),
        "-extra-sid", ",".join(PAC_EXTRA_SIDS), "-duration", str(duration_days), user,
    ]
    if faketime:
        if shutil.which("faketime") is None:
            pytest.fail("faketime missing: run interop/setup.sh")
        args = ["faketime", "-f", faketime] + args
    out_dir.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(args, cwd=out_dir, env=realm.env(), capture_output=True, text=True, timeout=60)
    path = out_dir / f"{user}.ccache"
    assert res.returncode == 0 and path.is_file(), f"ticketer.py failed:\n{res.stdout}{res.stderr}"
    os.chmod(path, 0o600)
    return path


# ---------------------------------------------------------------------------------------------
# A raw Kerberos client: AP-REQ built here, SESSION_SETUP sent through impacket's SMB3 layer.


@dataclass
class ServiceTicket:
    """A ticket for one service and what a client needs to use it."""

    client: str
    crealm: str
    ticket: Ticket
    session_key: Key


def load_ticket(ccache: Path, host: str = HOST) -> ServiceTicket:
    """The ticket for cifs/host in `ccache` (from kvno or ticketer.py)."""
    cc = CCache.loadFile(str(ccache))
    principal = f"cifs/{host}@{REALM}"
    cred = cc.getCredential(principal)
    assert cred is not None, f"no ticket for {principal} in {ccache}"
    tgs = cred.toTGS(principal)
    rep = decoder.decode(tgs["KDC_REP"], asn1Spec=TGS_REP())[0]
    ticket = Ticket()
    ticket.from_asn1(rep["ticket"])
    client = cc.principal.prettyPrint().decode()
    name, _, crealm = client.rpartition("@")
    return ServiceTicket(name, crealm, ticket, tgs["sessionKey"])


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def gss_wrap(tok_id: bytes, msg: bytes) -> bytes:
    """RFC 2743 3.1 InitialContextToken around a Kerberos message (RFC 4121 4.1)."""
    inner = b"\x06" + _der_len(len(KRB5_OID)) + KRB5_OID + tok_id + msg
    return b"\x60" + _der_len(len(inner)) + inner


def make_ap_req(st: ServiceTicket, *, when: Optional[datetime.datetime] = None) -> bytes:
    """A GSS-wrapped AP-REQ (mutual-required, RFC 4121 checksum) with the authenticator time
    `when` (default now, UTC)."""
    when = when or datetime.datetime.utcnow()
    ap = AP_REQ()
    ap["pvno"] = 5
    ap["msg-type"] = int(constants.ApplicationTagNumbers.AP_REQ.value)
    ap["ap-options"] = constants.encodeFlags([constants.APOptions.mutual_required.value])
    seq_set(ap, "ticket", st.ticket.to_asn1)
    auth = Authenticator()
    auth["authenticator-vno"] = 5
    auth["crealm"] = st.crealm
    seq_set(auth, "cname", Principal(st.client, type=constants.PrincipalNameType.NT_PRINCIPAL.value).components_to_asn1)
    auth["cusec"] = when.microsecond
    auth["ctime"] = KerberosTime.to_asn1(when)
    auth["cksum"] = noValue
    auth["cksum"]["cksumtype"] = 0x8003
    field = CheckSumField()
    field["Lgth"] = 16
    field["Flags"] = (GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG | GSS_C_REPLAY_FLAG
                      | GSS_C_SEQUENCE_FLAG)
    auth["cksum"]["checksum"] = field.getData()
    auth["seq-number"] = 0
    cipher = _enctype_table[st.session_key.enctype]
    enc = cipher.encrypt(st.session_key, 11, encoder.encode(auth), None)
    ap["authenticator"] = noValue
    ap["authenticator"]["etype"] = st.session_key.enctype
    ap["authenticator"]["cipher"] = enc
    return gss_wrap(b"\x01\x00", encoder.encode(ap))


def spnego_init(mech_token: bytes) -> bytes:
    """NegTokenInit offering MS-KRB5 and KRB5 with `mech_token`."""
    blob = SPNEGO_NegTokenInit()
    blob["MechTypes"] = [TypesMech["MS KRB5 - Microsoft Kerberos 5"], TypesMech["KRB5 - Kerberos 5"]]
    blob["MechToken"] = mech_token
    return blob.getData()


def spnego_resp(token: bytes) -> bytes:
    """NegTokenResp carrying `token` (the second leg after a KRB-ERROR)."""
    resp = SPNEGO_NegTokenResp()
    resp["ResponseToken"] = token
    return resp.getData()


class RawSession:
    """One SMB 3.0 connection (impacket negotiates) on which SESSION_SETUPs carry our blobs."""

    def __init__(self, server: KrbServer):
        self.conn = SMBConnection(SERVER_NAME, "127.0.0.1", sess_port=server.port,
                                  preferredDialect=SMB2_DIALECT_30, timeout=15)
        self.smb = self.conn.getSMBServer()

    def setup(self, blob: bytes) -> tuple[int, bytes]:
        """Sends one SESSION_SETUP with `blob`; returns (NT status, security buffer)."""
        req = SMB2SessionSetup()
        req["Flags"] = 0
        req["SecurityMode"] = SMB2_NEGOTIATE_SIGNING_ENABLED
        req["Capabilities"] = 0
        req["Channel"] = 0
        req["PreviousSessionId"] = 0
        req["SecurityBufferLength"] = len(blob)
        req["Buffer"] = blob
        packet = self.smb.SMB_PACKET()
        packet["Command"] = SMB2_SESSION_SETUP
        packet["Data"] = req
        pid = self.smb.sendSMB(packet)
        ans = self.smb.recvSMB(pid)
        self.smb._Session["SessionID"] = ans["SessionID"]
        status = ans["Status"]
        buf = b""
        if status in (STATUS_SUCCESS, STATUS_MORE_PROCESSING_REQUIRED):
            buf = SMB2SessionSetup_Response(ans["Data"])["Buffer"]
        return status, buf

    def close(self) -> None:
        """Drops the TCP connection."""
        try:
            self.conn.close()
        except Exception:  # the server may have closed it already
            pass


def raw_setup(server: KrbServer, blob: bytes) -> tuple[int, bytes]:
    """One SESSION_SETUP with `blob` on a fresh connection."""
    s = RawSession(server)
    try:
        return s.setup(blob)
    finally:
        s.close()


def krb_error_code(buffer: bytes) -> int:
    """The error-code of the GSS-wrapped KRB-ERROR (tok id 03 00) inside a SPNEGO response."""
    at = buffer.find(KRB5_OID)
    assert at >= 0, f"no Kerberos token in the response: {buffer.hex()}"
    rest = buffer[at + len(KRB5_OID):]
    assert rest[:2] == b"\x03\x00", f"not a KRB-ERROR token (tok id {rest[:2].hex()}): {buffer.hex()}"
    err = decoder.decode(rest[2:], asn1Spec=KRB_ERROR())[0]
    return int(err["error-code"])


def status_name(status: int) -> str:
    """Hex of an NT status, for messages."""
    return f"0x{status:08X}"


def tamper_pac(st: ServiceTicket, key: Key, change: bool = True) -> ServiceTicket:
    """The ticket decrypted with the service key and re-encrypted; with `change`, the PAC's
    LOGON_INFO has the user RID PAC_USER_ID replaced by PAC_USER_ID + 1 (its NDR stays valid,
    only the server signature no longer matches)."""
    asn = st.ticket.to_asn1(TicketAsn1())
    cipher = _enctype_table[key.enctype]
    plain = cipher.decrypt(key, 2, bytes(asn["enc-part"]["cipher"]))
    part = decoder.decode(plain, asn1Spec=EncTicketPart())[0]
    changed = 0
    for i, ad in enumerate(part["authorization-data"]):
        if int(ad["ad-type"]) != constants.AuthorizationDataType.AD_IF_RELEVANT.value:
            continue
        inner = decoder.decode(bytes(ad["ad-data"]), asn1Spec=AD_IF_RELEVANT())[0]
        for j, item in enumerate(inner):
            if int(item["ad-type"]) != 128:  # AD-WIN2K-PAC
                continue
            pac = bytes(item["ad-data"])
            old, new = struct.pack("<I", PAC_USER_ID), struct.pack("<I", PAC_USER_ID + 1)
            if change:
                assert pac.count(old) == 1, "the PAC should hold the user RID exactly once"
                pac = pac.replace(old, new)
            inner[j]["ad-data"] = pac
            changed += 1
        part["authorization-data"][i]["ad-data"] = encoder.encode(inner)
    assert changed == 1, "ticketer's ticket should carry one PAC"
    asn["enc-part"]["cipher"] = cipher.encrypt(key, 2, encoder.encode(part), None)
    ticket = Ticket()
    ticket.from_asn1(asn)
    return ServiceTicket(st.client, st.crealm, ticket, st.session_key)


# ---------------------------------------------------------------------------------------------
# The realm itself (no server needed).


def test_service_key_derivation(kdc):
    """The keys the tests derive from the service password equal kadmin's (keytab entries of
    cifs/fs.example.test, kvno 2), so ticketer's tickets decrypt with the server's keytab."""
    entries = {(p, e): (v, k) for p, v, e, k in realm_mod.keytab_keys(kdc.keytab)}
    for etype in (18, 17):
        kvno, key = entries[(f"cifs/{HOST}@{REALM}", etype)]
        assert kvno == KVNO
        assert key == service_key(HOST, etype).contents
    assert (f"cifs/{OTHER_HOST}@{REALM}", 18) not in entries
    wrong = realm_mod.keytab_keys(kdc.wrong_keytab)
    assert [(p, v, e) for p, v, e, _ in wrong] == [(f"cifs/{WRONGKEY_HOST}@{REALM}", KVNO, 18)]
    assert wrong[0][3] != service_key(WRONGKEY_HOST).contents


@pytest.mark.parametrize(
    "host,etype",
    [(HOST, AES256)] + [(h, e[0]) for h, e in realm_mod.SERVICE_HOSTS.items() if h != HOST],
)
def test_kdc_issues_each_etype(kdc, ccache, host, etype):
    """The KDC encrypts each service's ticket with that service's only etype."""
    kdc.service_ticket(ccache, host)
    assert kdc.ticket_etype(ccache, host) == etype


# ---------------------------------------------------------------------------------------------
# smbclient with MIT tickets.


ROUND_TRIPS = [
    (HOST, None),
    (HOST, "sign"),
    (HOST, "encrypt"),
    (f"fs-aes256.{realm_mod.DOMAIN}", None),
    (f"fs-aes128.{realm_mod.DOMAIN}", None),
    (f"fs-sha384.{realm_mod.DOMAIN}", "encrypt"),
]


@pytest.mark.parametrize("host,protection", ROUND_TRIPS,
                         ids=[f"{h.split('.')[0]}-{p or 'plain'}" for h, p in ROUND_TRIPS])
def test_round_trip(live, kdc, ccache, work_dir, client_conf, tmp_path, host, protection):
    """ls, mkdir, put/get of 3 MiB (byte-identical), rename, rm, rmdir over Kerberos, with the
    service ticket of each etype (taken beforehand with kvno, so its etype is known)."""
    kdc.service_ticket(ccache, host)
    want = realm_mod.SERVICE_HOSTS[host][0]
    assert kdc.ticket_etype(ccache, host) == want
    src, dst = tmp_path / "src.bin", tmp_path / "back.bin"
    digest = random_file(src, ROUND_TRIP_SIZE)

    def smb(commands: str) -> str:
        return assert_ok(krb_smbclient(live, kdc, ccache, commands, host=host, protection=protection,
                                       conf=client_conf))

    out = smb(f'cd {work_dir}; ls; mkdir sub; put "{src}" a.bin; ls')
    assert "a.bin" in out and "sub" in out, out
    assert sha256_file(live.info.share_path("share") / work_dir / "a.bin") == digest
    out = smb(f'cd {work_dir}; rename a.bin b.bin; get b.bin "{dst}"; ls')
    assert "b.bin" in out and "a.bin" not in out, out
    assert sha256_file(dst) == digest
    out = smb(f"cd {work_dir}; rm b.bin; rmdir sub; ls")
    assert "b.bin" not in out and "sub" not in out, out
    assert list((live.info.share_path("share") / work_dir).iterdir()) == []


def test_mapped_principal_identity(live, kdc, ccache, client_conf):
    """alice's MIT ticket (PAC without LOGON_INFO) gets the SIDs of her [[principal]] entry."""
    s = open_session_status(live, kdc, ccache, "alice", client_conf)
    assert s["auth"] == "kerberos", s
    assert s["dialect"] == "3.1.1", s
    assert s["user_sid"] == ALICE_SID, s
    assert set(s["groups"]) == set(ALICE_GROUPS) | WELL_KNOWN, s
    assert len(s["groups"]) == len(set(s["groups"])), f"duplicate groups: {s}"


@pytest.mark.parametrize("host,cipher", [
    (f"fs-aes128.{realm_mod.DOMAIN}", "AES-256-GCM"),
    (f"fs-aes256.{realm_mod.DOMAIN}", "AES-128-CCM"),
    (f"fs-sha384.{realm_mod.DOMAIN}", "AES-256-CCM"),
])
def test_channel_cipher_independent_of_ticket_etype(live, kdc, ccache, tmp_path, client_conf, host, cipher):
    """The SMB cipher is negotiated on its own, whatever the ticket's etype: an AES-256-GCM
    channel over an aes128 ticket, AES-128-CCM over aes256, AES-256-CCM over aes256-sha384."""
    conf = tmp_path / "smb.conf"
    conf.write_text(client_conf.read_text() + f"    client smb3 encryption algorithms = {cipher}\n")
    kdc.service_ticket(ccache, host)
    s = open_session_status(live, kdc, ccache, "alice", conf, host=host, protection="encrypt")
    assert s["cipher"] == cipher, s
    # smbclient encrypts every request of the session itself (--client-protection=encrypt).
    out = assert_ok(krb_smbclient(live, kdc, ccache, "ls", host=host, protection="encrypt", conf=conf))
    assert "blocks of size" in out, out


def test_unmapped_principal_refused(live, kdc, tmp_path, client_conf):
    """bob has a valid MIT ticket but no [[principal]] entry and no LOGON_INFO: refused."""
    bob = kdc.kinit("bob", tmp_path / "bob.ccache")
    assert_refused(krb_smbclient(live, kdc, bob, "ls", user="bob", conf=client_conf))
    assert_still_serving(live, client_conf)


def test_ticket_for_unknown_spn_refused(live, kdc, ccache, client_conf):
    """A ticket for cifs/fs-other (known to the KDC, in no keytab) is refused."""
    kdc.service_ticket(ccache, OTHER_HOST)
    assert_refused(krb_smbclient(live, kdc, ccache, "ls", host=OTHER_HOST, conf=client_conf))
    assert_still_serving(live, client_conf)


def test_wrong_service_key_refused(live, kdc, ccache, client_conf):
    """The keytab's key for cifs/fs-wrongkey comes from another password: the ticket does not
    decrypt and is refused."""
    kdc.service_ticket(ccache, WRONGKEY_HOST)
    assert_refused(krb_smbclient(live, kdc, ccache, "ls", host=WRONGKEY_HOST, conf=client_conf))
    assert_still_serving(live, client_conf)


@pytest.mark.xfail(
    reason="known issue: Samba 4.17's client answers our KRB_AP_ERR_SKEW SPNEGO reply with "
    "NT_STATUS_INVALID_NETWORK_RESPONSE instead of retrying; the raw-client skew test below shows "
    "the server side (KRB-ERROR 37, then a retry on the same session succeeds)",
    strict=False,
)
def test_client_clock_skew_is_corrected(live, kdc, ccache, client_conf):
    """smbclient one hour ahead (libfaketime): the server answers the skewed authenticator with
    KRB_AP_ERR_SKEW carrying its time, Heimdal's initiator retries once with that offset
    (init_sec_context's handle_error_packet), and the second AP-REQ is accepted. The service
    ticket is taken beforehand at the real time, as the KDC would refuse a skewed TGS-REQ."""
    if shutil.which("faketime") is None:
        pytest.fail("faketime missing: run interop/setup.sh")
    kdc.service_ticket(ccache, HOST)
    out = krb_smbclient(live, kdc, ccache, "ls", conf=client_conf, prefix=["faketime", "-f", "+1h"])
    assert out.returncode == 0 and "NT_STATUS_" not in out.stdout, (
        "a client one hour off should succeed after the KRB_AP_ERR_SKEW retry:\n" + out.stdout)
    assert_still_serving(live, client_conf)


# ---------------------------------------------------------------------------------------------
# PAC SIDs end to end (ticketer.py).


def test_pac_sids_end_to_end(live, kdc, tmp_path, client_conf):
    """A ticketer.py ticket with chosen domain SID, RID, groups and extra SIDs: the session's
    token holds exactly those SIDs plus the well-known network-logon ones."""
    cc = mint_ticket(kdc, tmp_path / "mint")
    s = open_session_status(live, kdc, cc, PAC_USER, client_conf)
    assert s["auth"] == "kerberos", s
    assert s["user_sid"] == f"{PAC_DOMAIN_SID}-{PAC_USER_ID}", s
    want = {f"{PAC_DOMAIN_SID}-{g}" for g in PAC_GROUPS} | set(PAC_EXTRA_SIDS) | WELL_KNOWN
    assert set(s["groups"]) == want, s
    assert len(s["groups"]) == len(set(s["groups"])), f"duplicate groups: {s}"


# ---------------------------------------------------------------------------------------------
# Raw AP-REQs: replay, expiry, tampering, skew, truncation.


def test_raw_ap_req_accepted(live, kdc, tmp_path):
    """Control for the raw cases: our AP-REQ with ticketer's ticket is accepted, and the
    decrypt/re-encrypt path of the tamper test without a change is accepted too."""
    st = load_ticket(mint_ticket(kdc, tmp_path / "mint"))
    status, _ = raw_setup(live, spnego_init(make_ap_req(st)))
    assert status == STATUS_SUCCESS, status_name(status)
    same = tamper_pac(st, service_key(), change=False)
    status, _ = raw_setup(live, spnego_init(make_ap_req(same)))
    assert status == STATUS_SUCCESS, status_name(status)


def test_replayed_ap_req_refused(live, kdc, ccache):
    """The same AP-REQ bytes on a second connection are refused (replay cache)."""
    kdc.service_ticket(ccache, HOST)
    blob = spnego_init(make_ap_req(load_ticket(ccache)))
    status, _ = raw_setup(live, blob)
    assert status == STATUS_SUCCESS, status_name(status)
    status, _ = raw_setup(live, blob)
    assert status == STATUS_LOGON_FAILURE, status_name(status)
    assert_still_serving(live)


def test_expired_ticket_refused(live, kdc, tmp_path):
    """A ticket valid from two days ago to yesterday (ticketer under faketime) is refused; real
    clients would not even send it, so the AP-REQ is built here."""
    st = load_ticket(mint_ticket(kdc, tmp_path / "mint", duration_days=1, faketime="-2d"))
    status, _ = raw_setup(live, spnego_init(make_ap_req(st)))
    assert status == STATUS_LOGON_FAILURE, status_name(status)
    assert_still_serving(live)


def test_tampered_pac_refused(live, kdc, tmp_path):
    """ticketer's ticket with one PAC field changed after signing (user RID + 1), re-encrypted
    with the right service key: the PAC server signature fails and the logon is refused."""
    st = load_ticket(mint_ticket(kdc, tmp_path / "mint"))
    bad = tamper_pac(st, service_key())
    status, _ = raw_setup(live, spnego_init(make_ap_req(bad)))
    assert status == STATUS_LOGON_FAILURE, status_name(status)
    assert_still_serving(live)


def test_skewed_authenticator_gets_krb_error_then_retry(live, kdc, ccache):
    """An authenticator one hour ahead gets STATUS_MORE_PROCESSING_REQUIRED with a KRB-ERROR
    KRB_AP_ERR_SKEW (MS-KILE 3.4.5.1); a second AP-REQ with the right time in a NegTokenResp on
    the same session is accepted."""
    kdc.service_ticket(ccache, HOST)
    st = load_ticket(ccache)
    s = RawSession(live)
    try:
        ahead = datetime.datetime.utcnow() + datetime.timedelta(hours=1)
        status, buf = s.setup(spnego_init(make_ap_req(st, when=ahead)))
        assert status == STATUS_MORE_PROCESSING_REQUIRED, status_name(status)
        assert krb_error_code(buf) == KRB_AP_ERR_SKEW
        status, _ = s.setup(spnego_resp(make_ap_req(st)))
        assert status == STATUS_SUCCESS, status_name(status)
    finally:
        s.close()
    assert_still_serving(live)


def test_truncated_tokens_refused(live, kdc, ccache):
    """SESSION_SETUPs whose SPNEGO token is cut short (1 byte, 10 bytes, half, all but one)
    are refused with LOGON_FAILURE or INVALID_PARAMETER, and the server keeps serving."""
    kdc.service_ticket(ccache, HOST)
    blob = spnego_init(make_ap_req(load_ticket(ccache)))
    for cut in (1, 10, len(blob) // 2, len(blob) - 1):
        try:
            status, _ = raw_setup(live, blob[:cut])
        except Exception as e:  # a dropped connection is not an answer
            pytest.fail(f"token cut to {cut} of {len(blob)} bytes: no SESSION_SETUP response ({e!r})")
        assert status in (STATUS_LOGON_FAILURE, STATUS_INVALID_PARAMETER), (
            f"token cut to {cut} of {len(blob)} bytes: {status_name(status)}")
    assert_still_serving(live)
