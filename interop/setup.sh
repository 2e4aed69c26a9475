#!/usr/bin/env bash
# Installs what the interop harness needs on a Debian 12 machine (run as root).
# Idempotent and quiet: when everything is already present it only checks and exits.
#   - Debian packages: smbclient, samba-testsuite (smbtorture), impacket (with its examples, e.g.
#     ticketer.py), pytest, venv; for the Kerberos tests krb5-user, krb5-kdc, krb5-admin-server
#     (a private MIT KDC), faketime (the clock skew case) and iproute2 (the ACL suite's
#     private network namespace) and iptables (cutting a client off inside such a namespace for
#     smbtorture's oplock and replay suites)
#   - interop/.venv: a /usr/bin/python3 venv with system site packages plus the pinned PyPI
#     packages of interop/requirements.txt (smbprotocol)
#   - target/kernel-vm/: qemu, a Debian cloud kernel and busybox-static, unpacked privately for
#     the kernel cifs client VM test (kernel-vm-fetch.sh; if that fails, the test skips saying why)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# Runs a command with its output kept in a log that is shown only if it fails.
quiet() {
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "setup: failed: $*" >&2
        return 1
    fi
    rm -f "$log"
}

apt_packages=(smbclient samba-testsuite python3-impacket python3-pytest python3-venv krb5-user
    krb5-kdc krb5-admin-server faketime iproute2 iptables prometheus)

missing=()
for p in "${apt_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: must run as root to install packages" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    quiet apt-get update
    quiet apt-get install -y --no-install-recommends "${missing[@]}"
fi

venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] \
    || ! "$venv/bin/python" -c 'import smbprotocol, smbclient, impacket, pytest' 2>/dev/null; then
    echo "setup: preparing $venv"
    rm -rf "$venv"
    quiet /usr/bin/python3 -m venv --system-site-packages "$venv"
    quiet "$venv/bin/python" -m pip install --disable-pip-version-check -r "$req"
    quiet "$venv/bin/python" -c 'import smbprotocol, smbclient, impacket, pytest'
    echo "$want" >"$stamp"
fi

# The kernel cifs client VM test's packages (tests/test_kernel_client.py); not fatal: without
# them that test skips with the reason.
if ! bash "$here/kernel-vm-fetch.sh"; then
    echo "setup: WARNING: kernel VM packages unavailable; tests/test_kernel_client.py will skip" >&2
fi
