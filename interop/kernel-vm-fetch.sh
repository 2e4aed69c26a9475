#!/usr/bin/env bash
# Fetches what the kernel cifs client VM test (tests/test_kernel_client.py) boots, into
# target/kernel-vm/ (or $SMBD_TEST_VM_CACHE), without installing anything system-wide:
#   - qemu-system-x86 with seabios, qemu-system-data, qemu-system-common (the TCG accelerator
#     module) and the libraries this machine lacks,
#     unpacked privately (installing Debian's qemu-system-x86 would replace the machine's newer
#     qemu-utils; the test runs qemu with LD_LIBRARY_PATH pointing into the unpacked tree);
#   - the Debian cloud kernel package that linux-image-cloud-amd64 depends on (vmlinuz and the
#     cifs and virtio-net modules);
#   - busybox-static (the guest's shell and tools), and cifs-utils' cifs.upcall with keyutils'
#     request-key for the Kerberos mount (their libraries are copied from this machine).
# Idempotent: a stamp file names the kernel; when it matches, nothing is fetched. Called by
# setup.sh; a failure here makes the VM test skip (with the reason), not the whole setup fail.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${SMBD_TEST_VM_CACHE:-$here/../target/kernel-vm}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

# The cloud flavour's current kernel package (e.g. linux-image-6.1.0-57-cloud-amd64).
kpkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')"
if [ -z "$kpkg" ]; then
    apt-get update -q >/dev/null
    kpkg="$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')"
fi
[ -n "$kpkg" ] || { echo "kernel-vm-fetch: no linux-image-cloud-amd64 package known to apt" >&2; exit 1; }

packages=("$kpkg" busybox-static qemu-system-x86 qemu-system-common qemu-system-data seabios
    libcapstone4 libfdt1 libpmem1 libndctl6 libdaxctl1 librdmacm1 libibverbs1 libslirp0 libvdeplug2
    libnl-3-200 libnl-route-3-200 cifs-utils keyutils)
stamp="$cache/root/.fetched"
want="${packages[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$cache/root/usr/bin/qemu-system-x86_64" ]; then
    exit 0
fi

echo "setup: fetching the kernel VM test's packages ($kpkg, qemu, busybox) into $cache"
rm -rf "$cache/debs" "$cache/root" "$cache/qemu-data"
mkdir -p "$cache/debs" "$cache/root"
# apt-get download writes into the current folder; _apt cannot write there, so it warns and
# downloads as root, which is fine.
(cd "$cache/debs" && apt-get download -q "${packages[@]}" >/dev/null 2>&1) || {
    apt-get update -q >/dev/null
    (cd "$cache/debs" && apt-get download -q "${packages[@]}" >/dev/null 2>&1)
}
for deb in "$cache"/debs/*.deb; do
    dpkg-deb -x "$deb" "$cache/root"
done
# Only the unpacked tree is kept; the .debs are not needed any more.
rm -rf "$cache/debs"
# qemu must start with the private libraries (the test checks again and skips if not).
LD_LIBRARY_PATH="$cache/root/usr/lib/x86_64-linux-gnu:$cache/root/lib/x86_64-linux-gnu" \
    "$cache/root/usr/bin/qemu-system-x86_64" --version >/dev/null
echo "$want" >"$stamp"
