"""A private MIT Kerberos realm for the Kerberos interop tests (EXAMPLE.TEST on loopback).

`start_realm(base)` writes krb5.conf and kdc.conf into `base`, creates the database with
kdb5_util, adds the principals below with kadmin.local, exports the service keytabs, starts
`krb5kdc -n` on a free loopback port and kinits alice into a 0600 credential cache. The
session fixture `kdc` does that once per pytest session, adds the service host names to
/etc/hosts (smbtorture and Kerberos name lookups need them; smbclient could use -I) and undoes
both at the end.

Principals (all with kvno 2, the kvno impacket's ticketer.py writes into the tickets it mints):
  alice, bob                        users with known passwords
  cifs/fs.example.test              aes256-cts, aes128-cts and aes256-sha384 keys, KNOWN password
                                    (so that tests can derive the key, RFC 3962)
  cifs/fs-aes256.example.test       one key each, so that the KDC must encrypt the ticket with
  cifs/fs-aes128.example.test       that etype (the session key follows the service's keys)
  cifs/fs-sha384.example.test
  cifs/fs-other.example.test        known to the KDC, absent from every keytab (wrong SPN)
  cifs/fs-wrongkey.example.test     the keytab holds a key from another password (wrong key)

Keytabs: `service.keytab` (ktadd -norandkey of the cifs/fs*, except other and wrongkey) and
`wrongkey.keytab` (ktutil addent from the wrong password): the server is given both.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import pytest

REALM = "EXAMPLE.TEST"
DOMAIN = "example.test"
MASTER_PASSWORD = "Kdc-Master-Pass-0"
#: user -> password of the realm's user principals.
USERS = {"alice": "Alice-Krb-Pass-1", "bob": "Bob-Krb-Pass-2"}
#: Password of every cifs/ service principal (known, so that tests can derive the keys).
SERVICE_PASSWORD = "Cifs-Service-Pass-3"
#: The password whose key goes into wrongkey.keytab instead of SERVICE_PASSWORD's.
WRONG_PASSWORD = "Not-The-Service-Pass-4"
KVNO = 2
HOST = f"fs.{DOMAIN}"
#: MIT etype names.
AES256 = "aes256-cts-hmac-sha1-96"
AES128 = "aes128-cts-hmac-sha1-96"
SHA384 = "aes256-cts-hmac-sha384-192"
#: RFC 3961/8009 etype numbers.
ETYPE_NUMBERS = {AES256: 18, AES128: 17, SHA384: 20}
#: Service host -> its etypes; every one of them is in service.keytab.
SERVICE_HOSTS = {
    HOST: (AES256, AES128, SHA384),
    f"fs-aes256.{DOMAIN}": (AES256,),
    f"fs-aes128.{DOMAIN}": (AES128,),
    f"fs-sha384.{DOMAIN}": (SHA384,),
}
#: A service the KDC knows but no keytab holds.
OTHER_HOST = f"fs-other.{DOMAIN}"
#: A service whose keytab key comes from WRONG_PASSWORD.
WRONGKEY_HOST = f"fs-wrongkey.{DOMAIN}"
ALL_HOSTS = (*SERVICE_HOSTS, OTHER_HOST, WRONGKEY_HOST)
HOSTS_MARK = "# smbd interop kerberos (removed at the end of the tests)"
START_TIMEOUT_S = 10.0
TOOL_TIMEOUT_S = 30.0


class RealmError(Exception):
    """A step of setting up the realm failed."""


def spn(host: str) -> str:
    """`cifs/host@REALM`."""
    return f"cifs/{host}@{REALM}"


def _check_free(port: int) -> bool:
    """True if nothing listens on 127.0.0.1:port over TCP or UDP (a second krb5kdc could
    otherwise start and bind without complaint, and the tests would talk to the wrong one)."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _free_port() -> int:
    """A high loopback port free for both TCP and UDP."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 20000 and _check_free(port):
            return port
    raise RealmError("no free loopback port for the KDC")


@dataclass
class Realm:
    """A running private realm and the files the tests need."""

    base: Path
    port: int
    krb5_conf: Path
    kdc_conf: Path
    #: Keytab with the cifs/ keys of SERVICE_HOSTS.
    keytab: Path
    #: Keytab with a wrong key for WRONGKEY_HOST.
    wrong_keytab: Path
    #: alice's credential cache (a TGT), mode 0600.
    ccache: Path
    log: Path
    process: Optional[subprocess.Popen] = None
    hosts_added: list = field(default_factory=list)

    def env(self, ccache: Optional[Path] = None, **extra: str) -> dict:
        """The environment for Kerberos clients: KRB5_CONFIG, and KRB5CCNAME if given."""
        env = dict(os.environ)
        env["KRB5_CONFIG"] = str(self.krb5_conf)
        env["KRB5_KDC_PROFILE"] = str(self.kdc_conf)
        env.pop("KRB5CCNAME", None)
        if ccache is not None:
            env["KRB5CCNAME"] = f"FILE:{ccache}"
        env.update(extra)
        return env

    def run(self, args: Sequence[str], *, ccache: Optional[Path] = None, stdin: str = "",
            check: bool = True) -> subprocess.CompletedProcess:
        """Runs an MIT tool in the realm's environment; output merged in `.stdout`."""
        out = subprocess.run(
            list(args), input=stdin, env=self.env(ccache), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", timeout=TOOL_TIMEOUT_S,
        )
        if check and out.returncode != 0:
            raise RealmError(f"{' '.join(args)} exited {out.returncode}:\n{out.stdout}")
        return out

    def kadmin(self, query: str) -> str:
        """One kadmin.local query."""
        out = self.run(["kadmin.local", "-r", REALM, "-q", query])
        if "error" in out.stdout.lower() or "unable" in out.stdout.lower():
            raise RealmError(f"kadmin.local -q {query!r}:\n{out.stdout}")
        return out.stdout

    def kinit(self, user: str, ccache: Path, password: Optional[str] = None,
              lifetime: Optional[str] = None) -> Path:
        """kinit `user` into `ccache` (mode 0600); returns the path."""
        args = ["kinit"]
        if lifetime:
            args += ["-l", lifetime]
        args.append(f"{user}@{REALM}")
        self.run(args, ccache=ccache, stdin=(password or USERS[user]) + "\n")
        os.chmod(ccache, 0o600)
        return ccache

    def service_ticket(self, ccache: Path, host: str) -> str:
        """`kvno cifs/host`: puts a service ticket into `ccache`; returns kvno's output."""
        return self.run(["kvno", spn(host)], ccache=ccache).stdout

    def ticket_etype(self, ccache: Path, host: str) -> str:
        """The etype name of the ticket for cifs/host in `ccache` (from `klist -e`)."""
        out = self.run(["klist", "-e"], ccache=ccache).stdout
        lines = out.splitlines()
        for i, line in enumerate(lines):
            if spn(host) in line:
                for follow in lines[i : i + 3]:
                    if "Etype (skey, tkt):" in follow:
                        return follow.split(",")[-1].strip()
        raise RealmError(f"no ticket for {spn(host)} in {ccache}:\n{out}")

    def alive(self) -> bool:
        """True while the KDC runs."""
        return self.process is not None and self.process.poll() is None


def _write_configs(base: Path, port: int) -> tuple[Path, Path]:
    db = base / "db"
    db.mkdir()
    etypes = f"{AES256}:normal {AES128}:normal {SHA384}:normal"
    krb5_conf = base / "krb5.conf"
    krb5_conf.write_text(
        f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    udp_preference_limit = 1
    allow_weak_crypto = false
    forwardable = false
    ticket_lifetime = 10h

[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{port}
        admin_server = 127.0.0.1:{port + 1}
    }}

[domain_realm]
    .{DOMAIN} = {REALM}
    {DOMAIN} = {REALM}
"""
    )
    kdc_conf = base / "kdc.conf"
    kdc_conf.write_text(
        f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}

[realms]
    {REALM} = {{
        database_name = {db / "principal"}
        key_stash_file = {db / "stash"}
        acl_file = {db / "kadm5.acl"}
        kdc_listen = 127.0.0.1:{port}
        kdc_tcp_listen = 127.0.0.1:{port}
        supported_enctypes = {etypes}
        master_key_type = {AES256}
        max_life = 10h
        max_renewable_life = 1d
    }}

[logging]
    kdc = FILE:{base / "kdc.log"}
"""
    )
    (db / "kadm5.acl").write_text("")
    return krb5_conf, kdc_conf


def _keysalts(etypes: Sequence[str]) -> str:
    return ",".join(f"{e}:normal" for e in etypes)


def _populate(realm: Realm) -> None:
    realm.run(["kdb5_util", "create", "-s", "-r", REALM, "-P", MASTER_PASSWORD])
    for user, password in USERS.items():
        realm.kadmin(f"addprinc -kvno {KVNO} -pw {password} {user}@{REALM}")
    services = dict(SERVICE_HOSTS)
    services[OTHER_HOST] = (AES256,)
    services[WRONGKEY_HOST] = (AES256,)
    for host, etypes in services.items():
        realm.kadmin(f"addprinc -kvno {KVNO} -e {_keysalts(etypes)} -pw {SERVICE_PASSWORD} {spn(host)}")
    for host in SERVICE_HOSTS:
        realm.kadmin(f"ktadd -k {realm.keytab} -norandkey {spn(host)}")
    realm.run(
        ["ktutil"],
        stdin=f"addent -password -p {spn(WRONGKEY_HOST)} -k {KVNO} -e {AES256}\n{WRONG_PASSWORD}\n"
        f"wkt {realm.wrong_keytab}\nquit\n",
    )
    for kt in (realm.keytab, realm.wrong_keytab):
        if not kt.is_file():
            raise RealmError(f"keytab {kt} was not written")
        os.chmod(kt, 0o600)


def _start_kdc(realm: Realm) -> None:
    if not _check_free(realm.port):
        raise RealmError(f"KDC port {realm.port} was taken meanwhile")
    with open(realm.log, "ab") as out:
        realm.process = subprocess.Popen(
            ["krb5kdc", "-n", "-r", REALM], env=realm.env(), stdin=subprocess.DEVNULL,
            stdout=out, stderr=out, start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if realm.process.poll() is not None:
            raise RealmError(f"krb5kdc exited with code {realm.process.returncode}:\n{_tail(realm.log)}")
        try:
            with socket.create_connection(("127.0.0.1", realm.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RealmError(f"krb5kdc did not listen on {realm.port} within {START_TIMEOUT_S:.0f} s")


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop_realm(realm: Realm) -> None:
    """Stops the KDC (SIGTERM, then SIGKILL)."""
    proc = realm.process
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def start_realm(base: Path) -> Realm:
    """Creates and starts the realm in `base` (an empty directory); kinits alice."""
    for tool in ("kdb5_util", "kadmin.local", "krb5kdc", "kinit", "kvno", "klist", "ktutil"):
        if shutil.which(tool) is None:
            raise RealmError(f"{tool} not found: run interop/setup.sh (krb5-kdc, krb5-admin-server, krb5-user)")
    port = _free_port()
    krb5_conf, kdc_conf = _write_configs(base, port)
    realm = Realm(
        base=base, port=port, krb5_conf=krb5_conf, kdc_conf=kdc_conf,
        keytab=base / "service.keytab", wrong_keytab=base / "wrongkey.keytab",
        ccache=base / "alice.ccache", log=base / "kdc.log",
    )
    _populate(realm)
    _start_kdc(realm)
    try:
        realm.kinit("alice", realm.ccache)
        mode = stat.S_IMODE(realm.ccache.stat().st_mode)
        if mode != 0o600:
            raise RealmError(f"ccache {realm.ccache} has mode {mode:o}, not 600")
    except Exception:
        stop_realm(realm)
        raise
    return realm


def keytab_keys(path: Path) -> list:
    """The entries of an MIT keytab (version 0x502) as (principal, kvno, etype, key bytes);
    used to check that the tests derive the same service keys as kadmin did."""
    data = path.read_bytes()
    if data[:2] != b"\x05\x02":
        raise RealmError(f"{path}: not a version 0x502 keytab")
    out, pos = [], 2
    while pos + 4 <= len(data):
        (size,) = struct.unpack_from(">i", data, pos)
        pos += 4
        if size < 0:  # a hole left by a removed entry
            pos += -size
            continue
        rec, pos = data[pos : pos + size], pos + size
        p = 0

        def counted() -> bytes:
            nonlocal p
            (n,) = struct.unpack_from(">H", rec, p)
            p += 2 + n
            return rec[p - n : p]

        (ncomp,) = struct.unpack_from(">H", rec, p)
        p += 2
        realm = counted().decode()
        comps = [counted().decode() for _ in range(ncomp)]
        _name_type, _stamp, vno8, etype = struct.unpack_from(">IIBH", rec, p)
        p += 11
        key = counted()
        kvno = struct.unpack_from(">I", rec, p)[0] if len(rec) - p >= 4 else vno8
        out.append((f"{'/'.join(comps)}@{realm}", kvno, etype, key))
    return out


def add_hosts(names: Sequence[str], hosts_file: Path = Path("/etc/hosts")) -> list:
    """Adds `127.0.0.1 name` for each name not resolvable yet; returns the lines added."""
    missing = []
    for name in names:
        try:
            if socket.gethostbyname(name) == "127.0.0.1":
                continue
        except OSError:
            pass
        missing.append(name)
    if not missing:
        return []
    line = f"127.0.0.1 {' '.join(missing)} {HOSTS_MARK}"
    text = hosts_file.read_text()
    if not text.endswith("\n"):
        text += "\n"
    # Written in place: /etc/hosts is often a bind mount that a rename would not reach.
    with open(hosts_file, "w") as f:
        f.write(text + line + "\n")
    return [line]


def remove_hosts(lines: Sequence[str], hosts_file: Path = Path("/etc/hosts")) -> None:
    """Removes exactly the lines add_hosts added."""
    if not lines:
        return
    kept = [ln for ln in hosts_file.read_text().splitlines() if ln not in lines]
    with open(hosts_file, "w") as f:
        f.write("\n".join(kept) + "\n")


@pytest.fixture(scope="session")
def kdc(tmp_path_factory) -> Realm:
    """The running private realm (see the module doc); stopped and /etc/hosts restored at the end."""
    base = tmp_path_factory.mktemp("krb5")
    try:
        added = add_hosts(ALL_HOSTS)
    except OSError as e:
        pytest.fail(f"cannot add the test host names to /etc/hosts: {e}")
    try:
        try:
            realm = start_realm(base)
        except (RealmError, OSError, subprocess.TimeoutExpired) as e:
            pytest.fail(f"cannot start the private KDC: {e}")
        realm.hosts_added = added
        try:
            yield realm
        finally:
            stop_realm(realm)
    finally:
        remove_hosts(added)
