#!/usr/bin/env bash
# The side-by-side comparison in one command, on a fresh Debian machine: installs Debian's
# `samba` when its smbd is missing (without starting the distribution's service), builds our
# server and the load generator, and runs `perf compare` against ours, Samba and smb-server 0.8
# (built on demand by perf). Arguments go to `perf compare`, e.g.
#
#   bash perf/compare.sh --secs 2 --file-mib 1024 --many 10000 --out perf-results
#   bash perf/compare.sh --peers samba --only seq-read
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/sbin/smbd ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "compare: Samba's smbd is missing; run as root, or apt-get install samba" >&2
        exit 1
    fi
    echo "compare: installing Debian's samba (its service is not started)"
    # A policy-rc.d that says 101 keeps the package's postinst from starting smbd/nmbd on port 445.
    policy=/usr/sbin/policy-rc.d
    had_policy=0
    [ -e "$policy" ] && had_policy=1 && cp -a "$policy" "$policy.compare-saved"
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
    trap '[ "$had_policy" = 1 ] && mv -f "$policy.compare-saved" "$policy" || rm -f "$policy"' EXIT
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends samba
fi

nice cargo build --release -p smbd -p perf
target/release/perf compare --server-bin target/release/smbd "$@"
