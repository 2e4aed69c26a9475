#!/usr/bin/env bash
# README command 1: builds the server and serves ./demo-share (created if missing) as share
# `share` with the account demo/demo on 127.0.0.1:4445 (or $PORT). The server prints the
# smbclient command to use. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi
echo "run-server: building (cargo build --release -p smbd)..." >&2
cargo build --release -q -p smbd
mkdir -p demo-share
exec target/release/smbd --quick-start --port "${PORT:-4445}" --share ./demo-share
