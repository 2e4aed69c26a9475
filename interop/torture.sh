#!/usr/bin/env bash
# Runs the smbtorture suites against the server, one suite per fresh server, and compares the
# results with interop/torture-known-failures.txt. Exits non-zero when a required suite has an
# unexpected failure, hangs past its time limit or crashes the server. Required: smb2.connect,
# smb2.read, smb2.compound, the NT security suites (smb2.acls, sdread, maximum_allowed,
# create.aclfile/acldir/nulldacl, acls_non_canonical) and issue #11's file system suites
# (torture.py FS_SUITES: streams, notify, ioctl, create, getinfo, setinfo, ea, timestamps,
# dosmode, fileid, mangle, dir, rename and more) and issue #12's multichannel suites
# (torture.py SESSION_SUITES: smb2.session on a plain and on an encrypted share, and
# smb2.multichannel in a network namespace with iptables). Informational suites
# (--informational) are only counted;
# TORTURE_ACL_ADMIN=1 runs the security suites as a member of BUILTIN\Administrators. With
# --state, issue #10's suites follow, required (smb2.oplock, lease, durable-open,
# durable-v2-open, durable-open-disconnect, durable-v2-delay, lock, replay, and the
# persistent-handle tests on a continuously available share).
#
#   bash interop/torture.sh                       # needs target/release/smbd
#   bash interop/torture.sh --state               # and the state suites (as run-tests.sh)
#   TORTURE_TIMEOUT=120 bash interop/torture.sh   # seconds per suite (default 300)
#   bash interop/torture.sh --required smb2.connect --informational smb2.lock
#   SMBD_TEST_EXTERNAL=127.0.0.1:4455 SMBD_TEST_ROOT=DIR bash interop/torture.sh  # running server
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/setup.sh"
exec "$here/.venv/bin/python" "$here/torture.py" "$@"
