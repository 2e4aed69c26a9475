#!/usr/bin/env python3
"""Stand-in for `smbd --config FILE` that runs Samba instead, to validate the harness itself.

Reads our TOML config (listen, state_dir, shares, accounts with nt_hash), writes an smb.conf
under state_dir, loads the accounts into a private passdb with their NT hashes, starts Samba's
smbd in the foreground, prints `listening on HOST:PORT` once the port accepts connections and
waits. SIGTERM stops Samba. Needs Debian's `samba` package and root (creates Unix users for the
accounts). Not used by run-tests.sh.

    SMBD_BIN=interop/samba-shim.py interop/.venv/bin/python -m pytest -c interop/pytest.ini interop/tests
    SMBD_BIN=interop/samba-shim.py bash interop/torture.sh
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] != "--config":
        print("usage: samba-shim.py --config FILE", file=sys.stderr)
        return 2
    cfg = tomllib.loads(Path(sys.argv[2]).read_text())
    host, _, port = cfg["listen"].rpartition(":")
    state = Path(cfg["state_dir"]) / "samba"
    for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    glob = {
        "netbios name": cfg.get("server_name", "SMBTEST"),
        "server role": "standalone server",
        "smb ports": port,
        "interfaces": "lo",
        "bind interfaces only": "yes",
        "disable netbios": "yes",
        "passdb backend": f"tdbsam:{state}/private/passdb.tdb",
        "server min protocol": "SMB2_02",
        "server signing": "mandatory" if cfg.get("signing") == "required" else "auto",
        "server smb encrypt": {"off": "if_required", "desired": "desired", "required": "required"}[
            cfg.get("encrypt", "off")
        ],
        "load printers": "no",
        "printing": "bsd",
        "printcap name": "/dev/null",
        "disable spoolss": "yes",
        "map to guest": "never",
        "log level": "1",
    }
    for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc"):
        glob[f"{sub} dir" if sub in ("private", "ncalrpc") else f"{sub} directory"] = str(state / sub)
    lines = ["[global]"] + [f"    {k} = {v}" for k, v in glob.items()]
    for share in cfg.get("share", []):
        os.chmod(share["path"], 0o777)
        lines += [
            f"[{share['name']}]",
            f"    path = {share['path']}",
            f"    read only = {'yes' if share.get('read_only') else 'no'}",
            "    force user = root",
        ]
        enc = share.get("encrypt", "off")
        if enc != "off":
            lines.append(f"    server smb encrypt = {enc}")
        # torture.py's `durable` share, as Samba's selftest defines it (selftest/target/Samba3.pm).
        if share["name"] == "durable":
            lines += ["    kernel share modes = no", "    kernel oplocks = no", "    posix locking = no"]
    conf = state / "smb.conf"
    conf.write_text("\n".join(lines) + "\n")

    for acct in cfg.get("account", []):
        name = acct["name"]
        if subprocess.run(["id", name], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
        dummy = secrets.token_hex(8)
        subprocess.run(["smbpasswd", "-c", str(conf), "-s", "-a", name], input=f"{dummy}\n{dummy}\n",
                       text=True, check=True, capture_output=True)
        subprocess.run(["pdbedit", "-s", str(conf), "-u", name, f"--set-nt-hash={acct['nt_hash'].upper()}"],
                       check=True, capture_output=True)

    smbd = subprocess.Popen(["smbd", "--foreground", "--no-process-group", "--debug-stdout", "-s", str(conf)],
                            stdin=subprocess.DEVNULL, stdout=sys.stderr)
    signal.signal(signal.SIGTERM, lambda *_: smbd.terminate())
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and smbd.poll() is None:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            print(f"samba-shim: listening on {host}:{port}", file=sys.stderr, flush=True)
            break
        except OSError:
            time.sleep(0.1)
    return smbd.wait()


if __name__ == "__main__":
    sys.exit(main())
