#!/usr/bin/env python3
"""Prints the packaged /etc/smbd/smbd.toml, made from smbd/smbd.example.toml (every key keeps
its comment): the server listens on port 445 of every IPv4 address, the example's names and
aliases become comments, and its shares and accounts (with known passwords) give way to one
share at /srv/smb/share, which the package's postinst creates, and no account.

    python3 package-config.py smbd/smbd.example.toml > smbd.toml
"""

from __future__ import annotations

import re
import sys

# Top-level keys of the example that name the example's host: kept as comments.
COMMENTED = ("server_name", "server_aliases")

HEADER = """\
# /etc/smbd/smbd.toml: the configuration of smbd (package smbd-rs).
#
# After an edit:   smbd-tools config check /etc/smbd/smbd.toml
#                  systemctl reload smbd      (or: smbd-tools reload)
# A share outside /srv/smb must also be made writable to the service:
#                  systemctl edit smbd   ->   [Service] ReadWritePaths=/the/share/path
# The example this file was made from, with more shares and accounts, is
# /usr/share/doc/smbd-rs/smbd.example.toml.
"""

SHARES = """\
[[share]]
name = "share"
path = "/srv/smb/share"          # made by the package; any existing directory
comment = "Files"
# read_only = true
# encrypt = "required"

# Local accounts for NTLM logon: one [[account]] table each, none at first. Add one (the
# password is read from standard input, and the file is rewritten with the account added):
#     smbd-tools account add --config /etc/smbd/smbd.toml --user alice --password-stdin
# [[account]]
# name = "alice"
# nt_hash = "..."                # MD4 of the UTF-16LE password, 32 hex digits
# rid = 1100
# groups = ["S-1-5-32-544"]
"""


def packaged(example: str) -> str:
    """The packaged configuration made from the example's text."""
    top, sep, _tables = example.partition("\n[[share]]\n")
    if not sep:
        raise SystemExit("package-config: no [[share]] table in the example")
    lines = top.splitlines()
    # The example's own title lines give way to the header.
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    out = []
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if key == "listen":
            out.append("# Port 445 on every IPv4 address; \"[::]:445\" for IPv6 too.")
            line = 'listen = "0.0.0.0:445"'
        elif key == "state_dir":
            line = 'state_dir = "/var/lib/smbd"'
        elif key in COMMENTED:
            line = "# " + line
        out.append(line)
    body = "\n".join(out).strip("\n")
    return HEADER + "\n" + body + "\n\n" + SHARES


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        example = f.read()
    text = packaged(example)
    # The packaged file must keep no account of the example (their passwords are known).
    if re.search(r"^\[\[account\]\]", text, re.M):
        raise SystemExit("package-config: an [[account]] table was left in")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
