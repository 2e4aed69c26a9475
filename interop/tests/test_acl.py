"""NT security against real clients: Debian's smbcacls reads and writes descriptors, smbclient
and smbprotocol are granted or refused what the descriptors say, share-level permissions are
checked at tree connect, and the owner rules hold.

The server runs with this module's own config: accounts admin (BUILTIN\\Administrators, which
`admin_groups` turns into the security, backup and restore privileges), alice and bob (BUILTIN\\
Users, as Windows local accounts are) and carol (a custom group S-1-5-21-1111-2222-3333-4444);
a fixed server GUID, so that the machine SID and every account's SID are known in advance.

smbcacls has no port option (Samba 4.17 always dials 445, then 139), so the server listens on
127.0.0.1:445 inside a private network namespace (netns.py), where smbcacls and smbclient run
too; where no namespace can be made, on port 445 of a random 127.x address if this user may
bind it; otherwise the smbcacls tests are skipped and the rest run on a free port.

Samba 4.17's SDDL codec turns `FA` into 0x1ff (no standard rights), so every mask written here
is in hex.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from smbprotocol.connection import Connection
from smbprotocol.create_contexts import SMB2CreateContextRequest
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

from accounts import ACCOUNTS
from helpers import assert_ok, run_smbclient
from netns import NetNs
from smbd_server import REPO, SERVER_NAME, ServerInfo, StartError, log_dir, prepare_root, start_server, stop, tail

# ---------------------------------------------------------------------------------------------
# Identities.

#: Fixed server GUID (state_dir/server-guid); the machine SID is derived from it.
SERVER_GUID = bytes.fromhex("00112233445566778899aabbccddeeff")
BUILTIN_ADMINS = "S-1-5-32-544"
BUILTIN_USERS = "S-1-5-32-545"
CUSTOM_GROUP = "S-1-5-21-1111-2222-3333-4444"
#: name -> (password, rid, groups)
ACL_ACCOUNTS = {
    "admin": ("Admin-Pass-0", 1000, [BUILTIN_ADMINS]),
    "alice": (ACCOUNTS["alice"], 1001, [BUILTIN_USERS]),
    "bob": (ACCOUNTS["bob"], 1002, [BUILTIN_USERS]),
    "carol": ("Carol-Pass-3", 1003, [CUSTOM_GROUP]),
}

FULL = 0x001F01FF
READ_EXECUTE = 0x001200A9
#: What MAXIMUM_ALLOWED gives on a file whose DACL grants read-execute, inside a folder that
#: grants FILE_DELETE_CHILD: DELETE comes from the folder (MS-FSA 2.1.5.1.2.1).
READ_EXECUTE_DELETE = READ_EXECUTE | 0x00010000
MODIFY = 0x001301BF
STATUS_ACCESS_DENIED = 0xC0000022


def machine_sid(guid: bytes = SERVER_GUID) -> str:
    """S-1-5-21-a-b-c from the first three little-endian words of the GUID (smbd/src/setup.rs)."""
    words = [int.from_bytes(guid[i : i + 4], "little") for i in (0, 4, 8)]
    return "S-1-5-21-" + "-".join(str(w) for w in words)


def sid_of(name: str) -> str:
    """An account's SID: the machine SID and its RID."""
    return f"{machine_sid()}-{ACL_ACCOUNTS[name][1]}"


#: The primary group every NTLM account gets (the machine's None/Domain Users group, RID 513).
PRIMARY_GROUP = f"{machine_sid()}-513"


# ---------------------------------------------------------------------------------------------
# SDDL as smbcacls prints it (MS-DTYP 2.5.1), parsed so that masks and SIDs compare by value.

RIGHTS = {
    "GA": 0x10000000, "GX": 0x20000000, "GW": 0x40000000, "GR": 0x80000000,
    "SD": 0x00010000, "RC": 0x00020000, "WD": 0x00040000, "WO": 0x00080000,
    "CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8, "RP": 0x10, "WP": 0x20, "DT": 0x40, "LO": 0x80,
    "CR": 0x100, "FA": FULL, "FR": 0x00120089, "FW": 0x00120116, "FX": 0x001200A0,
}
SID_ALIASES = {
    "WD": "S-1-1-0", "CO": "S-1-3-0", "CG": "S-1-3-1", "OW": "S-1-3-4", "NU": "S-1-5-2",
    "AU": "S-1-5-11", "SY": "S-1-5-18", "BA": BUILTIN_ADMINS, "BU": BUILTIN_USERS,
    "BG": "S-1-5-32-546",
}


@dataclass(frozen=True)
class Ace:
    """One ACE: type (A, D, ...), its flags as a set of two-letter codes, mask, SID."""

    kind: str
    flags: frozenset
    mask: int
    sid: str


@dataclass
class Sd:
    """A parsed SDDL descriptor."""

    owner: str
    group: str
    dacl_flags: str
    aces: list

    def ace_for(self, sid: str) -> list:
        """The ACEs naming `sid`."""
        return [a for a in self.aces if a.sid == sid]


def _sid(text: str) -> str:
    return SID_ALIASES.get(text, text)


def _mask(text: str) -> int:
    if text.lower().startswith("0x"):
        return int(text, 16)
    if len(text) % 2:
        raise ValueError(f"bad rights {text!r}")
    mask = 0
    for i in range(0, len(text), 2):
        mask |= RIGHTS[text[i : i + 2]]
    return mask


def parse_sddl(text: str) -> Sd:
    """Parses `O:..G:..D:flags(ace)(ace)...` (a SACL part, if any, is ignored)."""
    m = re.fullmatch(r"O:(?P<o>[^:]+?)G:(?P<g>[^:]+?)D:(?P<df>[A-Z]*)(?P<aces>(\([^)]*\))*)(S:.*)?",
                     text.strip())
    assert m, f"not an SDDL descriptor: {text!r}"
    aces = []
    for body in re.findall(r"\(([^)]*)\)", m["aces"]):
        kind, flags, rights, _obj, _inh, sid = body.split(";")
        aces.append(Ace(kind, frozenset(flags[i : i + 2] for i in range(0, len(flags), 2)), _mask(rights),
                        _sid(sid)))
    return Sd(_sid(m["o"]), _sid(m["g"]), m["df"], aces)


def ace(kind: str, flags: str, mask: int, sid: str) -> Ace:
    """An expected ACE."""
    return Ace(kind, frozenset(flags[i : i + 2] for i in range(0, len(flags), 2)), mask, sid)


# ---------------------------------------------------------------------------------------------
# The server.


@dataclass
class AclServer:
    """The server with this module's config, and whether smbcacls can reach it (port 445)."""

    info: ServerInfo
    cacls: bool
    client_conf: Path
    #: The private network namespace the server listens in, if any.
    netns: Optional[NetNs] = None

    def reach(self):
        """Context in which in-process clients' sockets reach the server."""
        return self.netns.entered() if self.netns else contextlib.nullcontext()


#: Extra shares: name -> (share-level SDDL, root SDDL); None keeps the default.
EXTRA_SHARES = {
    "profiles": (None, None),
    "admins": ("O:BAG:BAD:(A;;FA;;;BA)", None),
    "readonly": ("O:BAG:BAD:(A;;0x1200a9;;;AU)", None),
    "grp": (None, f"O:BAG:BAD:(A;OICI;0x1200a9;;;{CUSTOM_GROUP})(A;OICI;FA;;;BA)"),
}
READONLY_FILE = "ro.txt"
READONLY_CONTENT = b"read me\n"


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _config(root: Path) -> tuple[list, list, dict, dict]:
    top = [f"admin_groups = [{_toml(BUILTIN_ADMINS)}]"]
    tables = []
    for name, (sddl, root_sddl) in EXTRA_SHARES.items():
        tables += ["[[share]]", f"name = {_toml(name)}", f"path = {_toml(str(root / name))}"]
        if sddl:
            tables.append(f"sddl = {_toml(sddl)}")
        if root_sddl:
            tables.append(f"root_sddl = {_toml(root_sddl)}")
        tables.append("")
    accounts = {name: pw for name, (pw, _rid, _groups) in ACL_ACCOUNTS.items()}
    lines = {
        name: [f"rid = {rid}", "groups = [" + ", ".join(_toml(g) for g in groups) + "]"]
        for name, (_pw, rid, groups) in ACL_ACCOUNTS.items()
    }
    return top, tables, accounts, lines


@pytest.fixture(scope="module")
def acl_server(tmp_path_factory) -> AclServer:
    """The server started with this module's accounts and shares: on 127.0.0.1:445 of a private
    network namespace when one can be made (root), else on a free loopback port."""
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        pytest.skip("the ACL tests need a server started with their own accounts and shares")
    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    if not binary.is_file():
        pytest.fail(f"server binary {binary} missing: run `cargo build --release -p smbd` first")
    base = tmp_path_factory.mktemp("smbd-acl")
    root, state = base / "shares", base / "state"
    state.mkdir()
    (state / "server-guid").write_text(SERVER_GUID.hex() + "\n")
    prepare_root(root)
    for name in EXTRA_SHARES:
        (root / name).mkdir()
    (root / "readonly" / READONLY_FILE).write_bytes(READONLY_CONTENT)
    top, tables, accounts, lines = _config(root)
    conf = base / "client.conf"
    conf.write_text("[global]\n    client min protocol = SMB2_02\n")
    log = log_dir() / f"smbd-acl-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    ns = NetNs.create()
    try:
        # smbcacls cannot dial another port than 445: inside the namespace, that port is ours.
        # Without a namespace (no CAP_SYS_ADMIN), port 445 of a random 127.x address when this
        # user may bind it; else a free port, and the smbcacls tests are skipped.
        attempts = [("127.0.0.1", 445, ns.prefix())] if ns else []
        if not ns and os.geteuid() == 0:
            attempts.append((f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}", 445, []))
        attempts.append(("127.0.0.1", None, []))
        errors = []
        for host, port, prefix in attempts:
            try:
                proc, port = start_server(binary, root, state, log, top_level=top, tables=tables, host=host,
                                          port=port, accounts=accounts, account_lines=lines, prefix=prefix)
            except StartError as e:
                errors.append(str(e))
                continue
            info = ServerInfo(host, port, SERVER_NAME, dict(accounts), root=root, log=log, process=proc,
                              exec_prefix=prefix)
            try:
                yield AclServer(info, port == 445, conf, ns if prefix else None)
            finally:
                stop(proc)
            return
        pytest.fail("the server does not start with the ACL config:\n" + "\n".join(errors))
    finally:
        if ns:
            ns.delete()


@pytest.fixture
def live(acl_server) -> AclServer:
    """The ACL server, checked to still be running."""
    info = acl_server.info
    assert info.alive(), f"server exited (code {info.process.returncode}):\n{tail(info.log)}"
    return acl_server


@pytest.fixture
def cacls(live) -> AclServer:
    """The ACL server when smbcacls can reach it (port 445)."""
    if not live.cacls:
        pytest.skip("smbcacls only dials port 445: needs a private network namespace or the right to bind 445")
    return live


def unique(prefix: str) -> str:
    """A fresh file or folder name."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------------------------------------
# Clients.


def smbcacls(server: AclServer, share: str, path: str, user: str, *args: str) -> subprocess.CompletedProcess:
    """Runs smbcacls on `//host/share path` as `user`; stdout and stderr merged, minus the
    harmless LSA lookup warning (the server has no lsarpc)."""
    pw = server.info.accounts[user]
    out = subprocess.run(
        [*server.info.exec_prefix, "smbcacls", f"//{server.info.host}/{share}", path, "-U", f"{user}%{pw}", "-s",
         str(server.client_conf), *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        errors="replace", timeout=30,
    )
    out.stdout = "\n".join(
        line for line in out.stdout.splitlines() if not line.startswith("failed to lookup domain sid")
    )
    return out


def get_sd(server: AclServer, share: str, path: str, user: str = "admin") -> Sd:
    """The descriptor of `path` as `user` reads it (smbcacls --sddl)."""
    out = smbcacls(server, share, path, user, "--sddl")
    assert out.returncode == 0 and "NT_STATUS" not in out.stdout, f"smbcacls --sddl as {user}:\n{out.stdout}"
    return parse_sddl(out.stdout.strip().splitlines()[-1])


def set_sd(server: AclServer, share: str, path: str, sddl: str, user: str = "admin") -> None:
    """Sets the whole descriptor of `path` as `user` (smbcacls --sddl -S)."""
    out = smbcacls(server, share, path, user, "--sddl", "-S", sddl)
    assert out.returncode == 0 and "NT_STATUS" not in out.stdout, f"smbcacls -S as {user}:\n{out.stdout}"


def smb(server: AclServer, share: str, commands: str, user: str) -> subprocess.CompletedProcess:
    """smbclient (SMB 3.1.1) as `user`."""
    return run_smbclient(server.info, share, commands, user=user, dialect="SMB3_11", timeout=30)


def assert_denied(result: subprocess.CompletedProcess, status: str = "NT_STATUS_ACCESS_DENIED") -> str:
    """smbclient printed `status`."""
    assert status in result.stdout, f"expected {status}:\n{result.stdout}"
    return result.stdout


def local_file(tmp_path: Path, content: bytes = b"payload\n") -> Path:
    """A small local file to upload."""
    path = tmp_path / unique("up")
    path.write_bytes(content)
    return path


class Raw:
    """An smbprotocol connection, session and tree as one user, for create contexts."""

    def __init__(self, server: AclServer, user: str, share: str):
        info = server.info
        self.conn = Connection(uuid.uuid4(), info.host, info.port, require_signing=True)
        with server.reach():
            self.conn.connect(timeout=30)
        try:
            self.session = Session(self.conn, user, info.accounts[user])
            self.session.connect()
            self.tree = TreeConnect(self.session, rf"\\{info.host}\{share}")
            self.tree.connect()
        except Exception:
            self.conn.disconnect()
            raise

    def open(self, path: str, access: int, *, disposition=CreateDisposition.FILE_OPEN, options=0,
             contexts: Optional[list] = None):
        """CREATE; returns (Open, list of parsed create context responses)."""
        f = Open(self.tree, path)
        ctx = f.create(ImpersonationLevel.Impersonation, access, 0,
                       ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE,
                       disposition, options, create_contexts=contexts)
        return f, ctx or []

    def close(self) -> None:
        """Disconnects everything."""
        self.conn.disconnect()


def mxac_context() -> SMB2CreateContextRequest:
    """SMB2_CREATE_QUERY_MAXIMAL_ACCESS_REQUEST without a timestamp (MS-SMB2 2.2.13.2.5)."""
    ctx = SMB2CreateContextRequest()
    ctx["buffer_name"] = b"MxAc"
    ctx["buffer_data"] = b""
    return ctx


def maximal_access(contexts: list) -> int:
    """The MaximalAccess of an MxAc response, after checking its QueryStatus is success."""
    for c in contexts:
        if hasattr(c, "fields") and "maximal_access" in c.fields:
            assert c["query_status"].get_value() == 0, f"MxAc QueryStatus {c['query_status']}"
            return c["maximal_access"].get_value()
    pytest.fail(f"no MxAc response among {contexts}")


def status_of(exc: SMBResponseException) -> int:
    """The NT status of an smbprotocol error."""
    return exc.status


# ---------------------------------------------------------------------------------------------
# Self-relative descriptors for the SecD create context (MS-DTYP 2.4.6), built by hand.


def sid_bytes(sid: str) -> bytes:
    """A SID in its binary form (MS-DTYP 2.4.2.2)."""
    parts = sid.split("-")
    assert parts[0] == "S" and parts[1] == "1"
    auth, subs = int(parts[2]), [int(p) for p in parts[3:]]
    return bytes([1, len(subs)]) + auth.to_bytes(6, "big") + b"".join(s.to_bytes(4, "little") for s in subs)


def sd_bytes(owner: str, group: str, aces: list, control_extra: int = 0) -> bytes:
    """A self-relative descriptor with owner, group and a DACL of (type, flags, mask, sid)."""
    body = b""
    for kind, flags, mask, sid in aces:
        s = sid_bytes(sid)
        body += bytes([kind, flags]) + (8 + len(s)).to_bytes(2, "little") + mask.to_bytes(4, "little") + s
    acl = bytes([2, 0]) + (8 + len(body)).to_bytes(2, "little") + len(aces).to_bytes(2, "little") + b"\0\0" + body
    o, g = sid_bytes(owner), sid_bytes(group)
    control = 0x8000 | 0x0004 | control_extra  # SELF_RELATIVE | DACL_PRESENT
    off_o = 20
    off_g = off_o + len(o)
    off_d = off_g + len(g)
    header = bytes([1, 0]) + control.to_bytes(2, "little") + off_o.to_bytes(4, "little") \
        + off_g.to_bytes(4, "little") + (0).to_bytes(4, "little") + off_d.to_bytes(4, "little")
    return header + o + g + acl


# ---------------------------------------------------------------------------------------------
# smbcacls: reading and writing descriptors.


def test_smbcacls_reads_inherited_descriptor(cacls, tmp_path):
    """A folder and file alice creates under the default share root carry alice as owner, the
    machine's RID 513 as group and the root's inheritable ACEs. (Whether they are marked ID
    depends on the root's DACL being auto-inherited, which the default root's is not: the
    flag is not compared here; smb2.acls.INHERITANCE covers it.)"""
    d = unique("inh")
    src = local_file(tmp_path)
    assert_ok(smb(cacls, "share", f"mkdir {d}; put {src} {d}\\f.txt", "alice"))
    for path, flags in ((d, "OICI"), (f"{d}\\f.txt", "")):
        sd = get_sd(cacls, "share", path, "alice")
        assert sd.owner == sid_of("alice"), sd
        assert sd.group == PRIMARY_GROUP, sd
        assert {Ace(a.kind, a.flags - {"ID"}, a.mask, a.sid) for a in sd.aces} == {
            ace("A", flags, FULL, "S-1-5-11"), ace("A", flags, FULL, "S-1-5-18"),
            ace("A", flags, FULL, BUILTIN_ADMINS),
        }, sd
    # The non-SDDL listing says the same, by numbers.
    out = smbcacls(cacls, "share", f"{d}\\f.txt", "alice", "--numeric")
    assert out.returncode == 0, out.stdout
    assert f"OWNER:{sid_of('alice')}" in out.stdout and f"GROUP:{PRIMARY_GROUP}" in out.stdout, out.stdout
    assert re.search(r"ACL:S-1-5-11:0/0x(0|00|10)/0x001f01ff", out.stdout), out.stdout


def test_smbcacls_reads_configured_root(cacls):
    """The root of a share with `root_sddl` carries exactly that descriptor."""
    sd = get_sd(cacls, "grp", "", "admin")
    assert (sd.owner, sd.group) == (BUILTIN_ADMINS, BUILTIN_ADMINS), sd
    assert sd.aces == [ace("A", "OICI", READ_EXECUTE, CUSTOM_GROUP), ace("A", "OICI", FULL, BUILTIN_ADMINS)], sd


def test_smbcacls_set_sddl_round_trip(cacls, tmp_path):
    """`--sddl -S` stores owner, group, protection and DACL; reading back gives the same."""
    name = unique("rt") + ".txt"
    assert_ok(smb(cacls, "share", f"put {local_file(tmp_path)} {name}", "alice"))
    alice = sid_of("alice")
    # In the order smbcacls sorts ACEs into before it sends them (deny first, then by SID), so
    # that the order read back is the order the server stored.
    want = (f"O:{alice}G:{PRIMARY_GROUP}D:PAI(D;;0x00000116;;;{sid_of('bob')})(A;;0x001301bf;;;BU)"
            f"(A;;0x001f01ff;;;{alice})(A;;0x001200a9;;;{CUSTOM_GROUP})")
    # AR (auto-inherit requested) is how a client asks the server to keep AI; Windows stores AI
    # only with it and never stores AR itself.
    set_sd(cacls, "share", name, want.replace("D:PAI", "D:PARAI"), "alice")
    got = get_sd(cacls, "share", name, "alice")
    assert got == parse_sddl(want), f"set {want}\nread {got}"


def test_smbcacls_add_modify_delete(cacls, tmp_path):
    """`-a`, `-M`, `-D` and `-S` in smbcacls' own ACL syntax change exactly the named ACE."""
    name = unique("amd") + ".txt"
    assert_ok(smb(cacls, "share", f"put {local_file(tmp_path)} {name}", "alice"))
    carol = sid_of("carol")

    def run(*args):
        out = smbcacls(cacls, "share", name, "alice", *args)
        assert out.returncode == 0 and "NT_STATUS" not in out.stdout, f"smbcacls {args}:\n{out.stdout}"

    before = get_sd(cacls, "share", name, "alice")
    run("-a", f"ACL:{carol}:ALLOWED/0x0/READ")
    sd = get_sd(cacls, "share", name, "alice")
    assert sd.ace_for(carol) == [ace("A", "", READ_EXECUTE, carol)], sd
    assert [a for a in sd.aces if a.sid != carol] == before.aces, sd

    run("-M", f"ACL:{carol}:ALLOWED/0x0/FULL")
    sd = get_sd(cacls, "share", name, "alice")
    assert sd.ace_for(carol) == [ace("A", "", FULL, carol)], sd

    run("-D", f"ACL:{carol}:ALLOWED/0x0/FULL")
    sd = get_sd(cacls, "share", name, "alice")
    assert sd.ace_for(carol) == [] and sd.aces == before.aces, sd



def test_smbcacls_set_acl_syntax(cacls, tmp_path):
    """`-S` in smbcacls' own ACL syntax replaces the DACL (sent with AclRevision 3)."""
    name = unique("acls") + ".txt"
    assert_ok(smb(cacls, "share", f"put {local_file(tmp_path)} {name}", "alice"))
    carol = sid_of("carol")
    out = smbcacls(cacls, "share", name, "alice", "-S",
                   f"ACL:{sid_of('alice')}:ALLOWED/0x0/FULL,ACL:{carol}:DENIED/0x0/0x00000116")
    assert out.returncode == 0 and "NT_STATUS" not in out.stdout, out.stdout
    sd = get_sd(cacls, "share", name, "alice")
    assert set(sd.aces) == {ace("A", "", FULL, sid_of("alice")), ace("D", "", 0x116, carol)}, sd
    # The new DACL is in force: carol is refused the write her DENY ACE names.
    assert_denied(smb(cacls, "share", f"put {local_file(tmp_path)} {name}", "carol"))


def test_smbcacls_maximum_access(cacls, tmp_path):
    """`smbcacls -x` (a MAXIMUM_ALLOWED open) reports the rights the DACL grants each user."""
    name = unique("mx") + ".txt"
    assert_ok(smb(cacls, "share", f"put {local_file(tmp_path)} {name}", "admin"))
    set_sd(cacls, "share", name,
           f"O:BAG:BAD:P(A;;0x001f01ff;;;BA)(A;;0x001200a9;;;{CUSTOM_GROUP})")
    for user, want in (("admin", FULL), ("carol", READ_EXECUTE_DELETE)):
        out = smbcacls(cacls, "share", name, user, "-x")
        assert re.search(rf"Maximum access: 0x0*{want:x}\b", out.stdout, re.I), f"{user}:\n{out.stdout}"


# ---------------------------------------------------------------------------------------------
# Access decisions.

FSLOGIX_ROOT = "O:BAG:SYD:PAI(A;;0x001301bf;;;BU)(A;OICIIO;0x001301bf;;;CO)(A;OICI;0x001f01ff;;;BA)(A;OICI;0x001f01ff;;;SY)"


def test_fslogix_profile_layout(cacls, tmp_path):
    """The FSLogix root: users may create their own folder, only its creator (and admins) get in."""
    set_sd(cacls, "profiles", "", FSLOGIX_ROOT.replace("D:PAI", "D:PARAI"), "admin")
    root, want = get_sd(cacls, "profiles", "", "admin"), parse_sddl(FSLOGIX_ROOT)
    # smbcacls sorts the ACEs before it sends them, so compare them as a set.
    assert (root.owner, root.group, root.dacl_flags) == (want.owner, want.group, want.dacl_flags), root
    assert sorted(root.aces, key=repr) == sorted(want.aces, key=repr), root

    folder = unique("alice-profile")
    src = local_file(tmp_path, b"alice's profile disk\n")
    assert_ok(smb(cacls, "profiles", f"mkdir {folder}; put {src} {folder}\\Profile.vhdx", "alice"))
    alice = sid_of("alice")
    sd = get_sd(cacls, "profiles", folder, "admin")
    assert sd.owner == alice, sd
    # CREATOR OWNER became alice on the folder, and stays inheritable; Users' folder-only ACE is gone.
    assert ace("A", "ID", MODIFY, alice) in sd.aces, sd
    assert ace("A", "OICIIOID", MODIFY, "S-1-3-0") in sd.aces, sd
    assert sd.ace_for(BUILTIN_USERS) == [], sd
    file_sd = get_sd(cacls, "profiles", f"{folder}\\Profile.vhdx", "admin")
    assert ace("A", "ID", MODIFY, alice) in file_sd.aces, file_sd

    # Alice works in her folder.
    assert_ok(smb(cacls, "profiles", f"ls {folder}\\*; get {folder}\\Profile.vhdx {tmp_path / 'a.out'}", "alice"))
    assert (tmp_path / "a.out").read_bytes() == b"alice's profile disk\n"
    # Bob sees the root but not inside alice's folder.
    assert_ok(smb(cacls, "profiles", "ls", "bob"))
    assert_denied(smb(cacls, "profiles", f"ls {folder}\\*", "bob"))
    assert_denied(smb(cacls, "profiles", f"get {folder}\\Profile.vhdx {tmp_path / 'b.out'}", "bob"))
    assert_denied(smb(cacls, "profiles", f"put {src} {folder}\\bob.txt", "bob"))
    assert not (tmp_path / "b.out").exists() or (tmp_path / "b.out").stat().st_size == 0
    # Bob may create his own folder beside it.
    assert_ok(smb(cacls, "profiles", f"mkdir {unique('bob-profile')}", "bob"))
    # The administrator gets in.
    assert_ok(smb(cacls, "profiles", f"ls {folder}\\*; get {folder}\\Profile.vhdx {tmp_path / 'c.out'}", "admin"))
    assert (tmp_path / "c.out").read_bytes() == b"alice's profile disk\n"


def test_group_sid_from_token(cacls, tmp_path):
    """An ACE for carol's configured group grants her exactly read; alice is not in the group."""
    d = unique("grp")
    assert_ok(smb(cacls, "share", f"mkdir {d}", "admin"))
    set_sd(cacls, "share", d, f"O:BAG:BAD:PARAI(A;OICI;0x001f01ff;;;BA)(A;OICI;0x001200a9;;;{CUSTOM_GROUP})")
    src = local_file(tmp_path, b"group data\n")
    assert_ok(smb(cacls, "share", f"put {src} {d}\\data.txt", "admin"))

    out = assert_ok(smb(cacls, "share", f"ls {d}\\*; get {d}\\data.txt {tmp_path / 'carol.out'}", "carol"))
    assert "data.txt" in out
    assert (tmp_path / "carol.out").read_bytes() == b"group data\n"
    assert_denied(smb(cacls, "share", f"put {src} {d}\\new.txt", "carol"))
    assert_denied(smb(cacls, "share", f"put {src} {d}\\data.txt", "carol"))
    assert_denied(smb(cacls, "share", f"rm {d}\\data.txt", "carol"))
    assert_denied(smb(cacls, "share", f"ls {d}\\*", "alice"))
    assert_denied(smb(cacls, "share", f"get {d}\\data.txt {tmp_path / 'alice.out'}", "alice"))


def test_group_share_root(live, tmp_path):
    """A share whose configured root grants carol's group read: carol lists, cannot write;
    alice (AU in the share permissions, not in the root's DACL) cannot list."""
    out = assert_ok(smb(live, "grp", "ls", "carol"))
    assert "blocks of size" in out
    assert_denied(smb(live, "grp", f"put {local_file(tmp_path)} x.txt", "carol"))
    assert_denied(smb(live, "grp", "ls", "alice"))
    assert_ok(smb(live, "grp", f"put {local_file(tmp_path)} {unique('adm')}.txt", "admin"))


def test_maximal_access_context(cacls, tmp_path):
    """MxAc in CREATE reports what the DACL grants: read-execute for carol's group, full for
    the administrators; alice is refused the open itself."""
    name = unique("mxac") + ".txt"
    assert_ok(smb(cacls, "share", f"put {local_file(tmp_path)} {name}", "admin"))
    set_sd(cacls, "share", name, f"O:BAG:BAD:P(A;;0x001f01ff;;;BA)(A;;0x001200a9;;;{CUSTOM_GROUP})")
    for user, want in (("carol", READ_EXECUTE_DELETE), ("admin", FULL)):
        raw = Raw(cacls, user, "share")
        try:
            f, ctx = raw.open(name, FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES, contexts=[mxac_context()])
            assert maximal_access(ctx) == want, f"{user}: {maximal_access(ctx):#x}"
            f.close()
        finally:
            raw.close()
    raw = Raw(cacls, "alice", "share")
    try:
        # FILE_READ_ATTRIBUTES alone would be granted through the folder's FILE_LIST_DIRECTORY
        # (MS-FSA 2.1.5.1.2.1); reading data is not.
        with pytest.raises(SMBResponseException) as e:
            raw.open(name, FilePipePrinterAccessMask.FILE_READ_DATA, contexts=[mxac_context()])
        assert status_of(e.value) == STATUS_ACCESS_DENIED
    finally:
        raw.close()


def test_maximum_allowed_open(cacls, tmp_path):
    """A MAXIMUM_ALLOWED open as carol reads but is refused a write (the handle holds read only)."""
    name = unique("max") + ".txt"
    assert_ok(smb(cacls, "share", f"put {local_file(tmp_path, b'hello')} {name}", "admin"))
    set_sd(cacls, "share", name, f"O:BAG:BAD:P(A;;0x001f01ff;;;BA)(A;;0x001200a9;;;{CUSTOM_GROUP})")
    raw = Raw(cacls, "carol", "share")
    try:
        f, _ = raw.open(name, FilePipePrinterAccessMask.MAXIMUM_ALLOWED)
        assert f.read(0, 5) == b"hello"
        with pytest.raises(SMBResponseException) as e:
            f.write(b"x", 0)
        assert status_of(e.value) == STATUS_ACCESS_DENIED
        f.close()
        with pytest.raises(SMBResponseException) as e:
            raw.open(name, FilePipePrinterAccessMask.FILE_WRITE_DATA)
        assert status_of(e.value) == STATUS_ACCESS_DENIED
    finally:
        raw.close()


def test_secd_create_context(cacls):
    """A descriptor sent in the SecD create context is the new file's descriptor."""
    name = unique("secd") + ".txt"
    alice, carol = sid_of("alice"), sid_of("carol")
    # Not in canonical order (an allow before a deny): the server keeps the order it is given.
    sd = sd_bytes(alice, PRIMARY_GROUP, [(0, 0, FULL, alice), (1, 0, 0x116, carol), (0, 0, READ_EXECUTE, carol)],
                  control_extra=0x1000)
    ctx = SMB2CreateContextRequest()
    ctx["buffer_name"] = b"SecD"
    ctx["buffer_data"] = sd
    raw = Raw(cacls, "alice", "share")
    try:
        f, _ = raw.open(name, FilePipePrinterAccessMask.GENERIC_WRITE | FilePipePrinterAccessMask.GENERIC_READ,
                        disposition=CreateDisposition.FILE_CREATE, options=CreateOptions.FILE_NON_DIRECTORY_FILE,
                        contexts=[ctx])
        f.write(b"secd", 0)
        f.close()
    finally:
        raw.close()
    got = get_sd(cacls, "share", name, "alice")
    assert got.owner == alice and got.group == PRIMARY_GROUP, got
    assert "P" in got.dacl_flags, got
    assert got.aces == [ace("A", "", FULL, alice), ace("D", "", 0x116, carol), ace("A", "", READ_EXECUTE, carol)], got
    assert_denied(smb(cacls, "share", f"get {name} /dev/null", "bob"))  # no ACE for bob


# ---------------------------------------------------------------------------------------------
# Share-level permissions.


def test_share_permissions_admins_only(live):
    """`sddl` granting only BUILTIN\\Administrators refuses alice at tree connect, admits admin."""
    assert_denied(smb(live, "admins", "ls", "alice"))
    assert_denied(smb(live, "admins", "ls", "carol"))
    assert_ok(smb(live, "admins", "ls", "admin"))


def test_share_permissions_read_only(live, tmp_path):
    """Read-only share permissions (AU: 0x1200a9) let alice read but not write, even though the
    root's DACL grants her full control; MxAc reports the intersection."""
    out = assert_ok(smb(live, "readonly", f"ls; get {READONLY_FILE} {tmp_path / 'r.out'}", "alice"))
    assert READONLY_FILE in out
    assert (tmp_path / "r.out").read_bytes() == READONLY_CONTENT
    assert_denied(smb(live, "readonly", f"put {local_file(tmp_path)} new.txt", "alice"))
    assert_denied(smb(live, "readonly", f"mkdir {unique('d')}", "alice"))
    raw = Raw(live, "alice", "readonly")
    try:
        f, ctx = raw.open(READONLY_FILE, FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES, contexts=[mxac_context()])
        assert maximal_access(ctx) & ~READ_EXECUTE == 0, f"{maximal_access(ctx):#x}"
        assert maximal_access(ctx) & 0x1 == 0x1, f"{maximal_access(ctx):#x}"
        f.close()
    finally:
        raw.close()


def test_share_permissions_bind_admins(live, tmp_path):
    """Share-level permissions hold for administrators too: read-only means read-only."""
    assert_denied(smb(live, "readonly", f"put {local_file(tmp_path)} {unique('adm')}.txt", "admin"))
    assert_denied(smb(live, "readonly", f"rm {READONLY_FILE}", "admin"))
    assert (live.info.share_path("readonly") / READONLY_FILE).exists()


# ---------------------------------------------------------------------------------------------
# Privileges: backup and restore override the DACL only for backup-intent opens.


def _alice_only_file(server: AclServer, tmp_path: Path) -> str:
    name = unique("priv") + ".txt"
    assert_ok(smb(server, "share", f"put {local_file(tmp_path, b'secret')} {name}", "alice"))
    set_sd(server, "share", name, f"O:{sid_of('alice')}G:{PRIMARY_GROUP}D:P(A;;0x001f01ff;;;{sid_of('alice')})",
           "alice")
    return name


def test_backup_intent_open_by_admin(cacls, tmp_path):
    """With FILE_OPEN_FOR_BACKUP_INTENT the administrator (backup privilege) reads a file whose
    DACL names only alice."""
    name = _alice_only_file(cacls, tmp_path)
    raw = Raw(cacls, "admin", "share")
    try:
        f, _ = raw.open(name, FilePipePrinterAccessMask.FILE_READ_DATA, options=CreateOptions.FILE_OPEN_FOR_BACKUP_INTENT)
        assert f.read(0, 6) == b"secret"
        f.close()
    finally:
        raw.close()
    # bob has no privilege: backup intent gives him nothing.
    raw = Raw(cacls, "bob", "share")
    try:
        with pytest.raises(SMBResponseException) as e:
            raw.open(name, FilePipePrinterAccessMask.FILE_READ_DATA, options=CreateOptions.FILE_OPEN_FOR_BACKUP_INTENT)
        assert status_of(e.value) == STATUS_ACCESS_DENIED
    finally:
        raw.close()


def test_admin_without_backup_intent_follows_dacl(cacls, tmp_path):
    """Without backup intent the administrator gets what the DACL gives him: nothing here."""
    name = _alice_only_file(cacls, tmp_path)
    assert_denied(smb(cacls, "share", f"get {name} {tmp_path / 'adm.out'}", "admin"))


def test_system_security_needs_privilege(cacls, tmp_path):
    """Asking for ACCESS_SYSTEM_SECURITY (the SACL) without the privilege is PRIVILEGE_NOT_HELD."""
    name = unique("sacl") + ".txt"
    assert_ok(smb(cacls, "share", f"put {local_file(tmp_path)} {name}", "alice"))
    raw = Raw(cacls, "alice", "share")
    try:
        for access in (0x01000000, 0x01000000 | FilePipePrinterAccessMask.MAXIMUM_ALLOWED):
            with pytest.raises(SMBResponseException) as e:
                raw.open(name, access)
            assert status_of(e.value) == 0xC0000061, f"{access:#x}: {status_of(e.value):#x}"
    finally:
        raw.close()


def test_read_attributes_through_parent(cacls, tmp_path):
    """A DACL granting alice only FILE_WRITE_DATA still lets her open for FILE_READ_ATTRIBUTES
    (the folder lets her list it) and DELETE (the folder grants FILE_DELETE_CHILD)."""
    name = unique("ra") + ".txt"
    assert_ok(smb(cacls, "share", f"put {local_file(tmp_path)} {name}", "alice"))
    set_sd(cacls, "share", name, f"O:{sid_of('alice')}G:{PRIMARY_GROUP}D:P(A;;0x00000002;;;{sid_of('alice')})",
           "alice")
    raw = Raw(cacls, "alice", "share")
    try:
        for access in (FilePipePrinterAccessMask.DELETE, FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES):
            f, _ = raw.open(name, access)
            f.close()
    finally:
        raw.close()


# ---------------------------------------------------------------------------------------------
# Owner rules.


def test_owner_rules(cacls, tmp_path):
    """alice may not give her file to bob (INVALID_OWNER); the administrator may (restore
    privilege); alice may take back ownership only with WRITE_OWNER."""
    name = unique("own") + ".txt"
    assert_ok(smb(cacls, "share", f"put {local_file(tmp_path)} {name}", "alice"))
    bob = sid_of("bob")
    out = smbcacls(cacls, "share", name, "alice", "-C", bob)
    assert "NT_STATUS_INVALID_OWNER" in out.stdout, out.stdout
    assert get_sd(cacls, "share", name, "alice").owner == sid_of("alice")
    # Setting herself (a SID of her token) is fine.
    out = smbcacls(cacls, "share", name, "alice", "-C", sid_of("alice"))
    assert out.returncode == 0 and "NT_STATUS" not in out.stdout, out.stdout
    out = smbcacls(cacls, "share", name, "admin", "-C", bob)
    assert out.returncode == 0 and "NT_STATUS" not in out.stdout, out.stdout
    assert get_sd(cacls, "share", name, "admin").owner == bob
    # The group of the file may be set to any SID by the administrator too.
    out = smbcacls(cacls, "share", name, "admin", "-G", CUSTOM_GROUP)
    assert out.returncode == 0 and "NT_STATUS" not in out.stdout, out.stdout
    assert get_sd(cacls, "share", name, "admin").group == CUSTOM_GROUP
