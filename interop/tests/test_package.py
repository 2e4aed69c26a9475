"""The Debian package (tools/packaging/build-deb.sh) and the service integration.

The package is built from the release binaries already in target/release (no cargo run), its
contents and control fields are checked, and dpkg itself installs and purges it in a scratch
root (the maintainer scripts run under DPKG_ROOT). Unpacked into another with `dpkg -x`, the
*installed* server, ROOT/usr/sbin/smbd, runs from a config derived from the installed
ROOT/etc/smbd/smbd.toml (a temp share, a free port, an account added with the installed
smbd-tools) and serves a file to smbclient, while a Unix datagram socket standing in for
systemd (NOTIFY_SOCKET) receives READY=1 once it listens, RELOADING=1 and READY=1 around a
SIGHUP reload, and STOPPING=1 at SIGTERM.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from helpers import assert_ok, run_smbclient
from smbd_server import REPO, ServerInfo, free_port, log_dir, stop, tail, toml_str

BUILD = REPO / "tools" / "packaging" / "build-deb.sh"
PACKAGE = "smbd-rs"
#: Paths the package must hold (beside the man pages and the docs).
EXPECTED = [
    "usr/sbin/smbd",
    "usr/bin/smbd-tools",
    "etc/smbd/smbd.toml",
    "lib/systemd/system/smbd.service",
    "usr/lib/tmpfiles.d/smbd.conf",
    "usr/share/man/man8/smbd.8.gz",
    "usr/share/man/man8/smbd-tools.8.gz",
    "usr/share/man/man8/smbd-tools-account-add.8.gz",
    "usr/share/bash-completion/completions/smbd",
    "usr/share/bash-completion/completions/smbd-tools",
    "usr/share/zsh/vendor-completions/_smbd-tools",
    "usr/share/fish/vendor_completions.d/smbd-tools.fish",
    f"usr/share/doc/{PACKAGE}/copyright",
    f"usr/share/doc/{PACKAGE}/changelog.Debian.gz",
    f"usr/share/doc/{PACKAGE}/grafana-dashboard.json",
]
CAROL = ("carol", "Pkg-Pass-7")
START_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> tuple[Path, Path]:
    """(the .deb, the scratch root it is unpacked into)."""
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        pytest.skip("packages this workspace's binaries")
    for tool in ("dpkg-deb", "dpkg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} missing")
    release = REPO / "target" / "release"
    if not (release / "smbd").is_file() or not (release / "smbd-tools").is_file():
        pytest.fail("target/release/smbd and smbd-tools missing: cargo build --release -p smbd -p tools")
    out = tmp_path_factory.mktemp("deb")
    built = subprocess.run(["bash", str(BUILD), "--no-build", "--out", str(out)], capture_output=True, text=True)
    assert built.returncode == 0, f"build-deb.sh failed:\n{built.stdout}\n{built.stderr}"
    deb = Path(built.stdout.strip().splitlines()[-1])
    assert deb.is_file() and deb.name.startswith(f"{PACKAGE}_"), built.stdout
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return deb, root


def test_package_contents_and_control(package):
    deb, root = package
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    paths = {line.split()[-1].removeprefix("./") for line in listing.splitlines()}
    missing = [p for p in EXPECTED if p not in paths]
    assert not missing, f"missing from the package: {missing}\n{listing}"
    for line in listing.splitlines():
        assert " root/root " in line, f"not owned by root: {line}"

    fields = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"^Package: {PACKAGE}$", fields, re.M), fields
    assert re.search(r"^Depends: .*libc6 \(>= ", fields, re.M), fields
    assert re.search(r"^Architecture: \S+$", fields, re.M), fields
    control = subprocess.run(["dpkg-deb", "-I", str(deb), "conffiles"], capture_output=True, text=True, check=True)
    assert control.stdout.split() == ["/etc/smbd/smbd.toml"], control.stdout
    for script in ("postinst", "prerm", "postrm"):
        body = subprocess.run(["dpkg-deb", "-I", str(deb), script], capture_output=True, text=True, check=True).stdout
        assert body.startswith("#!/bin/sh"), f"{script}:\n{body}"
        sh = subprocess.run(["sh", "-n"], input=body, capture_output=True, text=True)
        assert sh.returncode == 0, f"{script} does not parse: {sh.stderr}"

    # The configuration may come to hold NT hashes: root only. It must carry no account.
    cfg = root / "etc/smbd/smbd.toml"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    text = cfg.read_text()
    assert not re.search(r"^\[\[account\]\]", text, re.M), "the packaged config holds an account"
    assert re.search(r'^state_dir = "/var/lib/smbd"$', text, re.M)

    unit = (root / "lib/systemd/system/smbd.service").read_text()
    for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "ProtectSystem=strict", "NoNewPrivileges=yes"):
        assert line in unit.splitlines(), f"the unit lacks {line}"
    if shutil.which("systemd-analyze"):
        # --man=no: the pages it names are in the scratch root, not on this machine.
        unit_copy = root / "smbd.service"
        unit_copy.write_text(unit.replace("/usr/sbin/smbd", str(root / "usr/sbin/smbd")))
        verify = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit_copy)], capture_output=True,
                                text=True)
        assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr
    if shutil.which("man"):
        page = subprocess.run(["man", "-l", str(root / "usr/share/man/man8/smbd-tools-account-add.8.gz")],
                              capture_output=True, text=True, env={**os.environ, "MANPAGER": "cat", "COLUMNS": "80"})
        shown = page.stdout
        assert page.returncode == 0 and "NAME" in shown and "--password-stdin" in shown, shown + page.stderr


def test_install_and_purge_with_dpkg(package, tmp_path):
    """dpkg itself installs and purges the package in a scratch root, running the maintainer
    scripts outside a chroot with DPKG_ROOT set (they and deb-systemd-helper honour it): the
    install makes the state, log and share folders and enables the unit; a purge removes the
    configuration, state and logs and the unit's enablement, and keeps the share folder."""
    deb, _root = package
    root = tmp_path / "dpkg-root"
    admin = root / "var/lib/dpkg"
    (admin / "info").mkdir(parents=True)
    (admin / "updates").mkdir()
    (admin / "status").touch()
    dpkg = ["dpkg", f"--root={root}", "--force-script-chrootless"]
    # dpkg wants ldconfig and start-stop-daemon in PATH, which a non-login root may lack.
    env = {**os.environ, "PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"}
    # --force-depends: the scratch root's database has no libc6.
    run = subprocess.run([*dpkg, "--force-depends", "-i", str(deb)], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert stat.S_IMODE((root / "var/lib/smbd").stat().st_mode) == 0o700
    assert (root / "var/log/smbd").is_dir() and (root / "srv/smb/share").is_dir()
    wants = root / "etc/systemd/system/multi-user.target.wants/smbd.service"
    assert wants.is_symlink() and os.readlink(wants) == "/lib/systemd/system/smbd.service"
    (root / "srv/smb/share/kept.txt").write_text("a user's file")

    run = subprocess.run([*dpkg, "--purge", PACKAGE], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    for gone in ("usr/sbin/smbd", "etc/smbd/smbd.toml", "var/lib/smbd", "var/log/smbd"):
        assert not (root / gone).exists(), f"{gone} left after purge"
    assert not wants.is_symlink(), "the unit is still enabled after purge"
    assert (root / "srv/smb/share/kept.txt").read_text() == "a user's file"


def packaged_config(root: Path, port: int, share: Path, state: Path) -> str:
    """The installed /etc/smbd/smbd.toml with its listen address, state_dir and share path
    moved to this test's."""
    text = (root / "etc/smbd/smbd.toml").read_text()
    out, n = re.subn(r"^listen = .*$", f'listen = "127.0.0.1:{port}"', text, flags=re.M)
    assert n == 1, "no listen key"
    out, n = re.subn(r"^state_dir = .*$", f"state_dir = {toml_str(str(state))}", out, flags=re.M)
    assert n == 1, "no state_dir key"
    out, n = re.subn(r'^path = "/srv/smb/share"', f"path = {toml_str(str(share))}", out, flags=re.M)
    assert n == 1, "no /srv/smb/share share"
    return out


def receive(sock: socket.socket, timeout: float = START_TIMEOUT_S) -> dict[str, str]:
    """The next notice on the NOTIFY_SOCKET stand-in, as KEY -> value."""
    sock.settimeout(timeout)
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.splitlines() if "=" in line)


def test_installed_server_serves_and_notifies(package, tmp_path):
    _deb, root = package
    share, state = tmp_path / "share", tmp_path / "state"
    share.mkdir()
    state.mkdir()
    (share / "hello.txt").write_bytes(b"from the installed package\n")
    port = free_port()
    cfg = tmp_path / "smbd.toml"
    cfg.write_text(packaged_config(root, port, share, state))
    cfg.chmod(0o600)

    tools = root / "usr/bin/smbd-tools"
    added = subprocess.run([str(tools), "account", "add", "--config", str(cfg), "--user", CAROL[0]],
                           input=CAROL[1] + "\n", capture_output=True, text=True)
    assert added.returncode == 0, added.stdout + added.stderr
    check = subprocess.run([str(tools), "config", "check", str(cfg)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    notify_path = tmp_path / "notify.sock"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    log = log_dir() / "package-server.log"
    env = {**os.environ, "NOTIFY_SOCKET": str(notify_path)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(root / "usr/sbin/smbd"), "--config", str(cfg)], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out, env=env, start_new_session=True, cwd=tmp_path)
    try:
        ready = receive(notify)
        assert ready.get("READY") == "1", ready
        assert f"listening on 127.0.0.1:{port}" in ready.get("STATUS", ""), ready
        assert f"listening on 127.0.0.1:{port}" in log.read_text(), "READY=1 came before the listening line"

        server = ServerInfo("127.0.0.1", port, "SMBD", {CAROL[0]: CAROL[1]}, root=tmp_path, log=log,
                            process=proc)
        local = tmp_path / "got.txt"
        assert_ok(run_smbclient(server, "share", f"get hello.txt {local}", user=CAROL[0], timeout=60))
        assert local.read_bytes() == b"from the installed package\n"

        os.kill(proc.pid, signal.SIGHUP)
        reloading = receive(notify)
        assert reloading.get("RELOADING") == "1" and int(reloading.get("MONOTONIC_USEC", "0")) > 0, reloading
        reloaded = receive(notify)
        assert reloaded.get("READY") == "1" and "refused" not in reloaded.get("STATUS", ""), reloaded

        os.kill(proc.pid, signal.SIGTERM)
        stopping = receive(notify)
        assert stopping.get("STOPPING") == "1", stopping
        assert proc.wait(timeout=10) == 0
    except BaseException:
        print(tail(log))
        raise
    finally:
        stop(proc)
        notify.close()
