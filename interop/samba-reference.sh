#!/usr/bin/env bash
# Starts a private Samba smbd with the same shares and accounts as the pytest fixture, to
# validate the harness itself against a known-good server. Not used by run-tests.sh; needs
# Debian's `samba` package (apt-get install samba) and root (it creates Unix users alice, bob).
#
#   bash interop/samba-reference.sh [PORT]       # runs in the foreground; Ctrl-C stops it
#   # in another shell, the command it prints:
#   SMBD_TEST_EXTERNAL=127.0.0.1:PORT SMBD_TEST_ROOT=DIR interop/.venv/bin/python -m pytest interop/tests
#
# Every file (config, passdb, locks, pid, logs, shares) lives under a fresh temp dir.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${1:-4455}"
command -v smbd >/dev/null || { echo "samba-reference: install Debian's samba package first" >&2; exit 1; }

dir="$(mktemp -d /tmp/samba-ref.XXXXXX)"
mkdir -p "$dir"/{private,lock,state,cache,pid,ncalrpc,log} "$dir"/root/{share,enc,ro}
chmod 0777 "$dir"/root/{share,enc,ro}
cat >"$dir/smb.conf" <<CONF
[global]
    netbios name = SMBTEST
    workgroup = WORKGROUP
    server role = standalone server
    smb ports = $port
    interfaces = lo
    bind interfaces only = yes
    disable netbios = yes
    private dir = $dir/private
    lock directory = $dir/lock
    state directory = $dir/state
    cache directory = $dir/cache
    pid directory = $dir/pid
    ncalrpc dir = $dir/ncalrpc
    log file = $dir/log/%m.log
    passdb backend = tdbsam:$dir/private/passdb.tdb
    server min protocol = SMB2_02
    server signing = auto
    server smb encrypt = if_required
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
    map to guest = never
[share]
    path = $dir/root/share
    read only = no
    force user = root
[enc]
    path = $dir/root/enc
    read only = no
    force user = root
    server smb encrypt = required
[ro]
    path = $dir/root/ro
    read only = yes
    force user = root
CONF

# Accounts: the same names and passwords as interop/tests/conftest.py.
while read -r user pass; do
    id "$user" >/dev/null 2>&1 || useradd --no-create-home --shell /usr/sbin/nologin "$user"
    printf '%s\n%s\n' "$pass" "$pass" | smbpasswd -c "$dir/smb.conf" -s -a "$user" >/dev/null
done < <("$here/.venv/bin/python" "$here/tests/accounts.py")

echo "samba-reference: config and shares in $dir"
echo "run: SMBD_TEST_EXTERNAL=127.0.0.1:$port SMBD_TEST_ROOT=$dir/root interop/.venv/bin/python -m pytest interop/tests"
exec smbd --foreground --no-process-group --debug-stdout -d 1 -s "$dir/smb.conf"
