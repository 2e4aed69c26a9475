"""A throw-away qemu VM that runs the Linux kernel's cifs client against the server.

Pieces, all prepared by interop/kernel-vm-fetch.sh (called by setup.sh) under
target/kernel-vm/root/ (Debian packages unpacked with dpkg-deb -x, nothing installed):
  - qemu-system-x86_64 with the libraries it lacks on this machine, run with LD_LIBRARY_PATH
    (installing Debian's qemu-system-x86 would replace the machine's newer qemu-utils);
  - the vmlinuz and /lib/modules of a Debian cloud kernel package;
  - busybox from busybox-static (the only program of the guest).

The initramfs is built here, in Python (a newc cpio archive, no tools needed): busybox, the
cifs module with everything it depends on and the virtio network driver (loaded in order by
insmod), the guest's /init (kernel_vm_init.sh) and /etc/test.env with what the cases need.

The VM has one virtio NIC on a tap device inside a private network namespace (netns.py); the
server listens on the tap's address in that namespace, so nothing leaves it. The guest prints
`KVMTEST PASS|FAIL|INFO ...` lines on its serial console (a file), which `parse_console` reads.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from smbd_server import REPO

CACHE = Path(os.environ.get("SMBD_TEST_VM_CACHE", REPO / "target" / "kernel-vm"))
INIT_SCRIPT = Path(__file__).with_name("kernel_vm_init.sh")
#: Addresses on the tap link (RFC 2544's benchmarking range: never routed, and the link lives
#: only inside the test's namespace).
HOST_ADDR = "198.18.0.1"
GUEST_ADDR = "198.18.0.2"
#: More addresses of the host end, so the server advertises several interfaces (FSCTL_QUERY_
#: NETWORK_INTERFACE_INFO) and a multichannel mount opens a channel to each (Linux 6.1 opens
#: one channel per advertised address).
EXTRA_HOST_ADDRS = ("198.18.0.3", "198.18.0.4", "198.18.0.5")
PREFIX_LEN = 24
#: What the guest's /init prints first (kernel_vm_init.sh).
BOOT_MARKER = "KVMTEST INFO boot"
#: Modules the guest needs besides what they depend on: the SMB client, the NIC, UTF-8 names,
#: and the templates gcm(aes) and ccm(aes) are built from (the kernel would load them through
#: modprobe, which the guest has not; cifs's softdeps name only gcm and ccm themselves).
ROOT_MODULES = ("cifs", "virtio_net", "virtio_pci", "nls_utf8", "ctr", "ghash_generic", "gf128mul",
                "cmac", "ecb", "sha512", "seqiv")


@dataclass
class VmImage:
    """Where the unpacked packages are."""

    root: Path
    kver: str

    @property
    def qemu(self) -> Path:
        return self.root / "usr" / "bin" / "qemu-system-x86_64"

    @property
    def vmlinuz(self) -> Path:
        return self.root / "boot" / f"vmlinuz-{self.kver}"

    @property
    def modules(self) -> Path:
        return self.root / "lib" / "modules" / self.kver

    @property
    def busybox(self) -> Path:
        return self.root / "bin" / "busybox"

    def qemu_env(self) -> dict:
        """The environment qemu runs with: its private libraries first."""
        libs = [self.root / "usr" / "lib" / "x86_64-linux-gnu", self.root / "lib" / "x86_64-linux-gnu"]
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = ":".join(str(p) for p in libs)
        # Debian builds the TCG accelerator as a module (qemu-system-common's accel-tcg-*.so).
        env["QEMU_MODULE_DIR"] = str(self.root / "usr" / "lib" / "x86_64-linux-gnu" / "qemu")
        return env

    def datadir(self) -> Path:
        """A folder with the firmware qemu looks for (-L): seabios' and qemu-system-data's."""
        d = CACHE / "qemu-data"
        if not (d / "bios-256k.bin").exists():
            d.mkdir(parents=True, exist_ok=True)
            for src in (self.root / "usr" / "share" / "qemu", self.root / "usr" / "share" / "seabios"):
                for f in src.iterdir():
                    if f.is_file() and not (d / f.name).exists():
                        shutil.copy(f, d / f.name)
        return d


def find_image() -> tuple[Optional[VmImage], str]:
    """The unpacked packages, or None and why they are not usable."""
    root = CACHE / "root"
    boot = root / "boot"
    kernels = sorted(boot.glob("vmlinuz-*")) if boot.is_dir() else []
    if not kernels:
        return None, f"no kernel unpacked under {boot} (run `bash interop/setup.sh`)"
    img = VmImage(root, kernels[-1].name[len("vmlinuz-"):])
    for what, path in (("qemu", img.qemu), ("modules", img.modules), ("busybox", img.busybox)):
        if not path.exists():
            return None, f"{what} missing: {path} (run `bash interop/setup.sh`)"
    probe = subprocess.run([str(img.qemu), "--version"], env=img.qemu_env(), capture_output=True, text=True)
    if probe.returncode != 0:
        return None, f"{img.qemu} does not run: {probe.stderr.strip()[:400]}"
    return img, ""


# ---------------------------------------------------------------------------------------------
# Kernel modules: which files to insmod, in which order.


def _modinfo(ko: Path, key: str) -> list[str]:
    """The values of `key=` in a module's .modinfo strings (the file is read whole; the
    strings are NUL-separated `key=value`)."""
    data = ko.read_bytes()
    return [m.decode() for m in re.findall(rb"\x00" + key.encode() + rb"=([^\x00]*)", data)]


def module_load_order(modules_dir: Path, wanted: Iterable[str]) -> list[Path]:
    """The module files to load for `wanted`, dependencies first: each module's `depends=` and
    its `softdep=` names (crypto algorithms cifs asks for), the latter only when they are
    modules at all (built-in ones need nothing). Names are matched with '-' and '_' alike and
    also as NAME_generic (sha512 -> sha512_generic.ko)."""
    index: dict[str, Path] = {}
    for ko in modules_dir.rglob("*.ko"):
        index[ko.stem.replace("-", "_")] = ko

    order: list[Path] = []
    seen: set[str] = set()

    def visit(name: str, required: bool) -> None:
        key = name.replace("-", "_")
        if key not in index and f"{key}_generic" in index:
            key = f"{key}_generic"
        if key in seen:
            return
        seen.add(key)
        ko = index.get(key)
        if ko is None:
            if required:
                raise FileNotFoundError(f"module {name} not found under {modules_dir}")
            return  # built in, or an alias the kernel resolves itself
        for dep in ",".join(_modinfo(ko, "depends")).split(","):
            if dep:
                visit(dep, True)
        for soft in _modinfo(ko, "softdep"):
            for word in soft.split():
                if not word.endswith(":"):
                    visit(word, False)
        order.append(ko)

    for name in wanted:
        visit(name, True)
    return order


# ---------------------------------------------------------------------------------------------
# The initramfs: a newc cpio archive written directly.


class Cpio:
    """Writes a newc ("070701") cpio archive, the format the kernel unpacks as initramfs."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.ino = 1
        self.dirs: set[str] = set()

    @staticmethod
    def _pad(n: int) -> bytes:
        return b"\0" * ((4 - n % 4) % 4)

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        raw = header + name.encode() + b"\0"
        self.parts += [raw, self._pad(len(raw)), data, self._pad(len(data))]
        self.ino += 1

    def mkdir(self, path: str) -> None:
        """A directory and its missing parents."""
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dirs.add(d)
                self._entry(d, stat.S_IFDIR | 0o755)

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        path = path.strip("/")
        if "/" in path:
            self.mkdir(path.rsplit("/", 1)[0])
        self._entry(path, stat.S_IFREG | mode, data)

    def chardev(self, path: str, major: int, minor: int) -> None:
        self._entry(path.strip("/"), stat.S_IFCHR | 0o600, rdev=(major, minor))

    def bytes(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        out = b"".join(self.parts)
        return out + b"\0" * ((512 - len(out) % 512) % 512)


#: The programs of a Kerberos mount: the kernel runs /sbin/request-key for a cifs.spnego key,
#: which runs cifs.upcall (both from the unpacked packages, see /etc/request-key.conf).
KRB_PROGRAMS = ("usr/sbin/cifs.upcall", "sbin/request-key")


def krb5_guest_files(img: VmImage) -> dict[str, tuple[bytes, int]]:
    """The Kerberos mount's programs with the shared libraries they load, taken from this
    machine as `ldd` finds them (path in the guest -> (content, mode)). Raises
    FileNotFoundError when a program or library is missing."""
    files: dict[str, tuple[bytes, int]] = {}
    for rel in KRB_PROGRAMS:
        src = img.root / rel
        if not src.is_file():
            raise FileNotFoundError(f"{src} missing (run `bash interop/setup.sh`)")
        files[rel] = (src.read_bytes(), 0o755)
        out = subprocess.run(["ldd", str(src)], capture_output=True, text=True, timeout=30).stdout
        for line in out.splitlines():
            if "not found" in line:
                raise FileNotFoundError(f"{rel}: {line.strip()}")
            m = re.search(r"(/\S+) \(0x", line)
            if m:
                # read_bytes follows symlinks: the guest gets the library under the name asked for.
                files[m.group(1).lstrip("/")] = (Path(m.group(1)).read_bytes(), 0o755)
    return files


def build_initramfs(img: VmImage, env: dict[str, str], out: Path,
                    extra: Optional[dict[str, tuple[bytes, int]]] = None) -> int:
    """Writes the guest's initramfs to `out`; returns the number of modules in it. `env`
    becomes /etc/test.env (shell assignments the /init script sources); `extra` adds files
    (path -> (content, mode))."""
    cpio = Cpio()
    for d in ("bin", "sbin", "proc", "sys", "dev", "tmp", "mnt", "etc", "lib/modules"):
        cpio.mkdir(d)
    # The kernel opens /dev/console for /init before anything is mounted.
    cpio.chardev("dev/console", 5, 1)
    cpio.file("bin/busybox", img.busybox.read_bytes(), 0o755)
    cpio.file("init", INIT_SCRIPT.read_bytes(), 0o755)
    modules = module_load_order(img.modules, ROOT_MODULES)
    names = []
    for ko in modules:
        cpio.file(f"lib/modules/{ko.name}", ko.read_bytes())
        names.append(ko.name)
    cpio.file("etc/modules.load", ("\n".join(names) + "\n").encode())
    for path, (data, mode) in (extra or {}).items():
        cpio.file(path, data, mode)
    lines = [f"{k}={shlex.quote(v)}" for k, v in env.items()]
    cpio.file("etc/test.env", ("\n".join(lines) + "\n").encode())
    out.write_bytes(cpio.bytes())
    return len(modules)


# ---------------------------------------------------------------------------------------------
# Running the VM and reading its console.


@dataclass
class VmRun:
    """What one boot printed and how it ended."""

    console: str
    seconds: float
    accel: str
    returncode: Optional[int]
    timed_out: bool
    results: dict[str, tuple[str, str]] = field(default_factory=dict)
    info: list[str] = field(default_factory=list)
    #: The server's folder behind the share the guest mounted (set by the test).
    share_root: Optional[Path] = None
    #: Cases that were not run, with the reason (set by the test).
    skipped: dict[str, str] = field(default_factory=dict)


def parse_console(text: str) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """`KVMTEST PASS name [detail]` / `KVMTEST FAIL name detail` lines -> {name: (verdict,
    detail)} (a FAIL wins over a PASS of the same name), and the `KVMTEST INFO` lines."""
    results: dict[str, tuple[str, str]] = {}
    info: list[str] = []
    for line in text.splitlines():
        m = re.search(r"KVMTEST (PASS|FAIL|INFO) (\S+)\s*(.*)$", line.rstrip("\r"))
        if not m:
            continue
        verdict, name, detail = m.groups()
        if verdict == "INFO":
            info.append(f"{name} {detail}")
        elif results.get(name, ("",))[0] != "FAIL":
            results[name] = (verdict, detail)
    return results, info


def setup_tap(ns_name: str, tap: str = "tap0") -> str:
    """A tap device inside the namespace with the host end's addresses, up."""
    for cmd in (
        ["ip", "-n", ns_name, "tuntap", "add", "dev", tap, "mode", "tap"],
        ["ip", "-n", ns_name, "addr", "add", f"{HOST_ADDR}/{PREFIX_LEN}", "dev", tap],
        *(["ip", "-n", ns_name, "addr", "add", f"{a}/{PREFIX_LEN}", "dev", tap] for a in EXTRA_HOST_ADDRS),
        ["ip", "-n", ns_name, "link", "set", tap, "up"],
    ):
        subprocess.run(cmd, check=True, capture_output=True, timeout=20)
    return tap


def kvm_usable() -> bool:
    """True when /dev/kvm can be opened for read and write."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def run_vm(img: VmImage, initrd: Path, console: Path, ns_prefix: list[str], tap: str, accel: str,
           timeout: float, boot_timeout: float = 60.0, memory_mb: int = 768) -> VmRun:
    """Boots the guest once under `accel` ("kvm" or "tcg") and waits for it to power off, or
    kills it after `timeout` seconds, or after `boot_timeout` if /init has not said it started
    by then (a hung accelerator then costs little: the caller tries the next one). The serial
    console goes to `console`, qemu's own output to a file beside it."""
    console.unlink(missing_ok=True)
    qemu_out = console.with_suffix(".qemu")
    cmd = [
        *ns_prefix, str(img.qemu),
        "-L", str(img.datadir()),
        "-machine", f"pc,accel={accel}",
        "-cpu", "host" if accel == "kvm" else "max",
        "-smp", "1", "-m", str(memory_mb),
        "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
        "-serial", f"file:{console}",
        "-kernel", str(img.vmlinuz), "-initrd", str(initrd),
        "-append", "console=ttyS0 panic=-1 quiet loglevel=4",
        "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
        "-device", "virtio-net-pci,netdev=n0,romfile=",
    ]
    start = time.monotonic()
    with open(qemu_out, "wb") as out:
        proc = subprocess.Popen(cmd, env=img.qemu_env(), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    while proc.poll() is None:
        elapsed = time.monotonic() - start
        booted = console.exists() and BOOT_MARKER in console.read_text(errors="replace")
        if elapsed > timeout or (elapsed > boot_timeout and not booted):
            timed_out = True
            os.killpg(proc.pid, 9)
            proc.wait()
            break
        time.sleep(0.25)
    seconds = time.monotonic() - start
    text = console.read_text(errors="replace") if console.exists() else ""
    extra = qemu_out.read_text(errors="replace").strip()
    if extra:
        text += "\n--- qemu output ---\n" + extra
    run = VmRun(text, seconds, accel, proc.returncode, timed_out)
    run.results, run.info = parse_console(text)
    return run
