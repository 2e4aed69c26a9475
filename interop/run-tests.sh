#!/usr/bin/env bash
# README command 2 (and CI's .ci/run): every test of the project, on a fresh Debian 12 machine
# as root. Steps, in order:
#   1. interop/setup.sh            Debian packages (smbclient, smbtorture, impacket, pytest...)
#                                  and interop/.venv with smbprotocol
#   2. cargo test --workspace      unit tests and known-answer vectors of every crate
#   3. cargo build --release -p smbd -p tools
#   4. pytest interop/tests        smbclient, smbprotocol and impacket against target/release/smbd
#   5. interop/torture.sh --state  smbtorture suites (required: smb2.connect, smb2.read, the NT
#                                  security suites, issue #11's file system suites and issue
#                                  #10's oplock, lease, durable, lock and replay suites)
#   6. perf smoke                  every perf workload briefly against the server (data checked)
#   7. interop/fuzz-build.sh       every fuzz target built and run briefly (FUZZ_MODE=plain)
# Every step runs even if an earlier one failed (except those that need the binary); the exit
# code is non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi

failed=()
step() {
    local name="$1"
    shift
    echo
    echo "=== run-tests: $name"
    local start=$SECONDS
    if "$@"; then
        echo "=== run-tests: $name: ok ($((SECONDS - start)) s)"
    else
        echo "=== run-tests: $name: FAILED ($((SECONDS - start)) s)"
        failed+=("$name")
        return 1
    fi
}

step "setup" bash interop/setup.sh || { echo "run-tests: setup failed, nothing else can run"; exit 1; }
step "cargo test" cargo test --workspace
if step "release build" cargo build --release -p smbd -p tools -p perf; then
    step "pytest" bash -c 'cd interop && exec .venv/bin/python -m pytest tests'
    step "smbtorture" bash interop/torture.sh --state
    step "perf smoke" target/release/perf smoke --server-bin target/release/smbd
    step "fuzz" env FUZZ_MODE=plain FUZZ_SECONDS="${FUZZ_SECONDS:-3}" bash interop/fuzz-build.sh
else
    failed+=("pytest (not run)" "smbtorture (not run)" "perf smoke (not run)" "fuzz (not run)")
fi

echo
if ((${#failed[@]})); then
    echo "run-tests: FAILED steps: ${failed[*]}"
    exit 1
fi
echo "run-tests: every step passed"
