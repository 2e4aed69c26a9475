#!/usr/bin/env bash
# Builds the Debian package smbd-rs from this workspace with dpkg-deb alone (no debhelper or
# cargo-deb): the release binaries, man pages and shell completions rendered by
# `smbd-tools generate`, the systemd unit, a tmpfiles.d entry, /etc/smbd/smbd.toml made from
# smbd/smbd.example.toml for the packaged layout, and the docs.
#
#   bash tools/packaging/build-deb.sh [--out DIR] [--no-build]
#
# --out DIR    where the .deb goes (default target/debian); its path is printed last.
# --no-build   take target/release/{smbd,smbd-tools} as they are (CI built them already).
# VERSION=...  the package version (default: the workspace version, then "-1").
set -euo pipefail
umask 022

repo="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo/tools/packaging"
out="$repo/target/debian"
build=1
while (($#)); do
    case "$1" in
    --out) out="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build-deb: unknown argument $1" >&2; exit 2 ;;
    esac
done

if ((build)); then
    (cd "$repo" && cargo build --release -p smbd -p tools)
fi
bin="$repo/target/release"
for b in smbd smbd-tools; do
    [ -x "$bin/$b" ] || { echo "build-deb: $bin/$b missing (build it, or drop --no-build)" >&2; exit 1; }
done

crate_version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -1)"
version="${VERSION:-$crate_version-1}"
arch="$(dpkg --print-architecture)"
name=smbd-rs

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/DEBIAN"

# Programs.
install -D -m 0755 "$bin/smbd" "$root/usr/sbin/smbd"
install -D -m 0755 "$bin/smbd-tools" "$root/usr/bin/smbd-tools"
if command -v strip >/dev/null; then
    strip --strip-debug "$root/usr/sbin/smbd" "$root/usr/bin/smbd-tools"
fi

# Configuration (a conffile), the unit and the tmpfiles.d entry.
install -d -m 0755 "$root/etc/smbd"
python3 "$here/package-config.py" "$repo/smbd/smbd.example.toml" >"$root/etc/smbd/smbd.toml"
# Readable by root only: account add stores NT hashes (password equivalents) in it.
chmod 0600 "$root/etc/smbd/smbd.toml"
install -D -m 0644 "$here/smbd.service" "$root/lib/systemd/system/smbd.service"
install -D -m 0644 "$here/smbd.tmpfiles" "$root/usr/lib/tmpfiles.d/smbd.conf"

# Man pages (section 8, compressed as Debian does) and completions.
"$bin/smbd-tools" generate man --out "$work/man" >/dev/null
install -d -m 0755 "$root/usr/share/man/man8"
for page in "$work/man"/*.8; do
    gzip -9n <"$page" >"$root/usr/share/man/man8/$(basename "$page").gz"
done
for shell in bash zsh fish; do
    "$bin/smbd-tools" generate completions "$shell" --out "$work/completions/$shell" >/dev/null
done
install -D -m 0644 "$work/completions/bash/smbd.bash" "$root/usr/share/bash-completion/completions/smbd"
install -D -m 0644 "$work/completions/bash/smbd-tools.bash" "$root/usr/share/bash-completion/completions/smbd-tools"
install -D -m 0644 -t "$root/usr/share/zsh/vendor-completions" "$work/completions/zsh/_smbd" "$work/completions/zsh/_smbd-tools"
install -D -m 0644 -t "$root/usr/share/fish/vendor_completions.d" "$work/completions/fish/smbd.fish" "$work/completions/fish/smbd-tools.fish"

# Documentation.
doc="$root/usr/share/doc/$name"
install -D -m 0644 "$here/debian/copyright" "$doc/copyright"
install -m 0644 "$repo/tools/grafana-dashboard.json" "$doc/grafana-dashboard.json"
install -m 0644 "$repo/smbd/smbd.example.toml" "$doc/smbd.example.toml"
for f in README.md docs/ADMIN.md docs/SECURITY.md; do
    if [ -f "$repo/$f" ]; then
        install -m 0644 "$repo/$f" "$doc/$(basename "$f")"
    fi
done
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
when="$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}")"
{
    echo "$name ($version) unstable; urgency=medium"
    echo
    echo "  * Built from commit $commit of the smbd workspace."
    echo
    echo " -- smbd developers <smbd@localhost>  $when"
} | gzip -9n >"$doc/changelog.Debian.gz"

# Control files: Depends from the libraries the programs link (dpkg-shlibdeps), else by hand.
install -m 0644 "$here/debian/conffiles" "$root/DEBIAN/conffiles"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$root/DEBIAN/"
depends="libc6 (>= 2.34), libgcc-s1 (>= 4.2)"
if command -v dpkg-shlibdeps >/dev/null; then
    mkdir -p "$work/src/debian"
    printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" >"$work/src/debian/control"
    if found="$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/sbin/smbd" "$root/usr/bin/smbd-tools" 2>/dev/null)"; then
        depends="${found#shlibs:Depends=}"
    fi
fi
size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    "$here/debian/control.in" >"$root/DEBIAN/control"
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/${name}_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
