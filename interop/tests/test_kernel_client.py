"""The Linux kernel's cifs client against the server, in a throw-away qemu VM (issue #12).

One boot runs every case: the guest's /init (kernel_vm_init.sh) mounts the server's shares
with each variant of VARIANTS in turn, runs its checks and prints a PASS/FAIL line per case on
the serial console; each test here reads its own line. The first variant (SMB 3.1.1, default
options plus mfsymlinks) gets the full file suite (FULL_CASES), the others a quick round trip
and a look at /proc/fs/cifs/DebugData.

The server is a server of this module's own, listening on the host end of a tap device inside
a private network namespace (netns.py), the guest on the other end; nothing leaves the
namespace, which is deleted at the end. qemu uses KVM when /dev/kvm works and falls back to
software emulation (TCG) otherwise.

Needs root, iproute2, /dev/net/tun and what interop/kernel-vm-fetch.sh (run by setup.sh)
unpacks under target/kernel-vm/; without them every test here is skipped with the reason.
Run alone: `cd interop && .venv/bin/python -m pytest tests/test_kernel_client.py -v`.
Environment: SMBD_TEST_VM_ACCEL=kvm|tcg forces the accelerator, SMBD_TEST_VM_BIGDIR the entries
of the large directory case (default 10000), SMBD_TEST_VM_TIMEOUT the boot's limit in seconds,
SMBD_TEST_VM_CASES (e.g. "readonly sparse") only those cases of the full suite (the others then
fail as missing), SMBD_TEST_VM_CIFSFYI=1 the kernel's cifs debug messages of each case in the
console file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Optional

import pytest

from accounts import ACCOUNTS
from kernel_vm import (
    BOOT_MARKER,
    GUEST_ADDR,
    HOST_ADDR,
    PREFIX_LEN,
    VmRun,
    build_initramfs,
    find_image,
    krb5_guest_files,
    kvm_usable,
    run_vm,
    setup_tap,
)
from kdc import HOST as KRB_HOST
from kdc import kdc  # noqa: F401 (the realm fixture, started only when this module asks for it)
from kdc import REALM
from netns import NetNs
from smbd_server import REPO, StartError, log_dir, prepare_root, start_server, stop

#: (name, share, mount options, a regular expression (grep's) /proc/fs/cifs/DebugData must
#: match while mounted).
#: The first one also runs FULL_CASES; the guest mounts them in this order.
VARIANTS = [
    ("smb311", "share", "vers=3.1.1,mfsymlinks", "Dialect 0x311"),
    ("smb21", "share", "vers=2.1", "Dialect 0x210"),
    ("smb30", "share", "vers=3.0", "Dialect 0x300"),
    ("smb302", "share", "vers=3.02", "Dialect 0x302"),
    # The session line of DebugData ends in "signed", a tree connect's in "Encrypted".
    ("sign", "share", "vers=3.1.1,sign", "SessionId: 0x[0-9a-f]* signed"),
    ("seal", "share", "vers=3.1.1,seal", "Serial Number: .* Encrypted"),
    ("enc_share", "enc", "vers=3.1.1", "Serial Number: .* Encrypted"),
    ("cache_none", "share", "vers=3.1.1,cache=none", "Dialect 0x311"),
    ("multichannel", "share", "vers=3.1.1,multichannel,max_channels=4", "Dialect 0x311"),
]
#: The Kerberos mount (only when the private realm of kdc.py starts and the guest's Kerberos
#: programs are there): the UNC names the service host (the SPN is cifs/<that name>) and
#: `ip=` the server's address (busybox mount does not add it, and the guest has no DNS
#: resolver upcall); the tickets come from a credential cache made on this machine.
KRB_VARIANT = ("krb5", "share", f"vers=3.1.1,sec=krb5,ip={HOST_ADDR}", "Security type: Kerberos", KRB_HOST)
#: The full file suite's cases, as kernel_vm_init.sh names them (after "<first variant>_").
FULL_CASES = ["write_read", "append", "truncate", "rename", "hardlink", "symlink", "mkdir_rmdir",
              "readonly", "unlink_open", "sparse", "bigdir", "df"]
#: Every case name the console should report, in order.
CASES = ([f"{VARIANTS[0][0]}_{c}" for c in FULL_CASES] + [v[0] for v in VARIANTS]
         + ["multichannel_channels", KRB_VARIANT[0]])
#: The server's port inside the namespace (private to it, so any fixed port is free).
PORT = 44445
USER = "alice"


def _skip(reason: str):
    """Skips loudly: the reason goes to stderr as well as into pytest's summary."""
    print(f"\n*** test_kernel_client: SKIPPED: {reason}", file=sys.stderr)
    pytest.skip(f"kernel cifs VM test cannot run: {reason}")


def _accelerators() -> list[str]:
    """Which accelerators to try, in order."""
    forced = os.environ.get("SMBD_TEST_VM_ACCEL")
    if forced:
        return [forced]
    return ["kvm", "tcg"] if kvm_usable() else ["tcg"]


def _kerberos(request, img, base: Path) -> tuple[Optional[dict], list[str], list[str], str]:
    """The Kerberos part, when it can be had: (guest files, server top-level lines, server
    tables, why not). Starts the realm (the session fixture `kdc`), puts alice's TGT and a
    service ticket for cifs/KRB_HOST into a credential cache for the guest."""
    try:
        realm = request.getfixturevalue("kdc")
    except (pytest.fail.Exception, pytest.skip.Exception) as e:
        return None, [], [], f"no private realm: {e}"
    try:
        files = krb5_guest_files(img)
    except (OSError, subprocess.SubprocessError) as e:
        return None, [], [], f"no Kerberos programs for the guest: {e}"
    ccache = base / "krb5cc"
    shutil.copyfile(realm.ccache, ccache)
    os.chmod(ccache, 0o600)
    try:
        realm.service_ticket(ccache, KRB_HOST)
    except Exception as e:  # noqa: BLE001 - whatever kvno says, the case cannot run
        return None, [], [], f"no service ticket: {e}"
    files["etc/krb5cc"] = (ccache.read_bytes(), 0o600)
    files["etc/hosts"] = (f"127.0.0.1 localhost\n{HOST_ADDR} {KRB_HOST}\n".encode(), 0o644)
    files["etc/passwd"] = (b"root:x:0:0:root:/:/bin/sh\n", 0o644)
    files["etc/request-key.conf"] = (b"create cifs.spnego * * /usr/sbin/cifs.upcall %k\n", 0o644)
    # The tickets are in the cache: the guest never talks to the KDC.
    files["etc/krb5.conf"] = ((
        "[libdefaults]\n"
        f"    default_realm = {REALM}\n"
        "    dns_lookup_kdc = false\n    dns_lookup_realm = false\n"
        "    rdns = false\n    dns_canonicalize_hostname = false\n"
        f"[domain_realm]\n    .{KRB_HOST.split('.', 1)[1]} = {REALM}\n"
    ).encode(), 0o644)
    top = [f'keytabs = ["{realm.keytab}"]', "clock_skew_seconds = 300"]
    tables = ["[[principal]]", f'name = "{USER}@{REALM}"', 'sid = "S-1-5-21-1000-2000-3000-1104"', ""]
    return files, top, tables, ""


@pytest.fixture(scope="module")
def vm_run(tmp_path_factory, request) -> VmRun:
    """Starts the namespace, the server and the VM once; the VM's run with every case."""
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        _skip("needs a server of its own inside a network namespace (SMBD_TEST_EXTERNAL is set)")
    if os.geteuid() != 0 or shutil.which("ip") is None or not Path("/dev/net/tun").exists():
        _skip("needs root, iproute2 and /dev/net/tun for the VM's tap device")
    img, why = find_image()
    if img is None:
        _skip(why)
    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    if not binary.is_file():
        pytest.fail(f"server binary {binary} missing: run `cargo build --release -p smbd` first")

    base = tmp_path_factory.mktemp("kernel-vm")
    root, state = base / "shares", base / "state"
    state.mkdir()
    prepare_root(root)
    for share in ("share", "enc"):
        os.chmod(root / share, 0o777)
    log = log_dir() / f"kernel-vm-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.log"
    console = log.with_suffix(".console")

    ns = NetNs.create()
    if ns is None:
        _skip("could not create a network namespace")
    proc = None
    try:
        try:
            tap = setup_tap(ns.name)
        except Exception as e:  # noqa: BLE001 - any failure here means no VM network
            _skip(f"no tap device in the namespace: {e}")
        krb_files, top, tables, krb_why = _kerberos(request, img, base)
        variants = list(VARIANTS) + ([KRB_VARIANT] if krb_files else [])
        try:
            # Every address of the namespace (the tap's four): a multichannel mount binds a
            # channel to each address the server advertises.
            proc, _ = start_server(binary, root, state, log, host="0.0.0.0", port=PORT, prefix=ns.prefix(),
                                   top_level=top, tables=tables)
        except StartError as e:
            pytest.fail(str(e))
        env = {
            "SERVER": HOST_ADDR, "PORT": str(PORT), "GUEST": GUEST_ADDR, "PREFIX": str(PREFIX_LEN),
            "USER": USER, "PASS": ACCOUNTS[USER],
            "VARIANTS": ";".join("|".join(v) for v in variants),
            "BIGDIR": os.environ.get("SMBD_TEST_VM_BIGDIR", "10000"),
        }
        if krb_files:
            env["KRB5CCNAME"] = "FILE:/etc/krb5cc"
        if os.environ.get("SMBD_TEST_VM_CASES"):
            env["FULL"] = os.environ["SMBD_TEST_VM_CASES"]
        if os.environ.get("SMBD_TEST_VM_CIFSFYI"):
            env["CIFSFYI"] = "1"
        initrd = base / "initramfs.cpio"
        nmods = build_initramfs(img, env, initrd, krb_files)
        timeout = float(os.environ.get("SMBD_TEST_VM_TIMEOUT", "400"))
        run = None
        for accel in _accelerators():
            run = run_vm(img, initrd, console, ns.prefix(), tap, accel, timeout)
            booted = BOOT_MARKER in run.console
            print(f"VM ({accel}, kernel {img.kver}, {nmods} modules): {run.seconds:.1f} s, "
                  f"exit {run.returncode}, {'booted' if booted else 'did not boot'}")
            if booted:
                break
            # Say why, e.g. a /dev/kvm that opens but cannot run a guest (qemu aborts).
            why = run.console.strip().splitlines()[-1:] or ["(no output)"]
            print(f"*** test_kernel_client: {accel} failed: {why[0][:300]}", file=sys.stderr)
        assert run is not None
        console.write_text(run.console)
        run.share_root = root / "share"
        run.skipped = {KRB_VARIANT[0]: krb_why} if krb_why else {}
        for line in run.info:
            print("guest:", line)
        if BOOT_MARKER not in run.console:
            # qemu starts but no accelerator gets the guest to its /init: the machine's doing.
            _skip(f"the guest never ran /init (tried {', '.join(_accelerators())}); console {console}: "
                  f"{run.console[-1500:]}")
        yield run
    finally:
        if proc is not None:
            stop(proc)
        ns.delete()
        print(f"server log {log}, guest console {console}")


def test_vm_finished(vm_run, report):
    """The guest ran to its end (`KVMTEST DONE`) and powered off before the time limit."""
    assert not vm_run.timed_out, f"VM killed after {vm_run.seconds:.0f} s:\n{vm_run.console[-4000:]}"
    assert "KVMTEST DONE" in vm_run.console, vm_run.console[-4000:]
    # FAIL lines of no case of CASES (the network setup, an umount) fail here.
    stray = {n: d for n, (v, d) in vm_run.results.items() if v == "FAIL" and n not in CASES}
    assert not stray, f"guest failures outside the cases: {stray}"
    passed = sum(1 for verdict, _ in vm_run.results.values() if verdict == "PASS")
    report(f"kernel cifs VM under {vm_run.accel}: {vm_run.seconds:.1f} s, "
           f"{passed} of {len(vm_run.results)} guest cases passed")


@pytest.mark.parametrize("case", CASES)
def test_kernel_client(vm_run, case):
    """One case of the guest: its PASS line on the console."""
    if case in vm_run.skipped:
        pytest.skip(f"{case}: {vm_run.skipped[case]}")
    verdict, detail = vm_run.results.get(case, ("MISSING", "no line on the console"))
    assert verdict == "PASS", f"{case}: {verdict} {detail}"
    print(f"{case}: {detail}")


def test_host_sees_guest_files(vm_run):
    """What the guest left in `share` is on the server's disk as written: the 10,000 empty
    files of the large directory and the Minshall-French symlink files of `mfsymlinks`."""
    if "KVMTEST PASS smb311_bigdir" not in vm_run.console:
        pytest.skip("the large directory case did not pass")
    big = vm_run.share_root / "big"
    names = os.listdir(big)
    assert len(names) == int(os.environ.get("SMBD_TEST_VM_BIGDIR", "10000"))
    assert all((big / n).stat().st_size == 0 for n in names[:100])
    dangling = vm_run.share_root / "dangling"
    # An mfsymlinks file: "XSym\n", the target's length, its MD5, the target, padding (1067 bytes).
    data = dangling.read_bytes()
    assert data.startswith(b"XSym\n") and b"/no/such/place" in data and len(data) == 1067, data[:80]
