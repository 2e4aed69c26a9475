#!/usr/bin/env bash
# Builds every cargo-fuzz target of the project (smbd/fuzz, acceptor/fuzz, acl/fuzz when
# present) and runs each for FUZZ_SECONDS seconds (default 5; 0 builds only).
#
#   interop/fuzz-build.sh                  build all, run each target 5 s
#   FUZZ_SECONDS=60 interop/fuzz-build.sh  longer runs
#   FUZZ_SECONDS=0 interop/fuzz-build.sh   build only
#   FUZZ_MODE=plain interop/fuzz-build.sh  CI mode: no cargo-fuzz; a plain release build of the
#                                          fuzz crates into the workspace's target dir (reusing
#                                          the release build's artifacts), then each target runs
#                                          its seeds and FUZZ_SECONDS of libFuzzer's own mutation
#                                          (without coverage instrumentation)
#
# The toolchain is stable, so cargo-fuzz runs with RUSTC_BOOTSTRAP=1 (it needs -Z flags for
# the sanitizer and coverage instrumentation). cargo-fuzz is installed into ~/.cargo/bin when
# missing (pinned version, --locked); CI caches ~/.cargo and target/ to skip the install and
# most of the build. Every fuzz crate builds into one shared target dir (FUZZ_TARGET_DIR,
# default target/fuzz) so their common dependencies compile once. Corpora grow in
# <crate>/fuzz/corpus/<target> (git-ignored); the committed seeds in <crate>/fuzz/seeds/<target>
# are read but never written. A crash leaves its input in <crate>/fuzz/artifacts/<target>.
# Exit code: non-zero if any build or run failed (all are attempted).
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi

FUZZ_SECONDS="${FUZZ_SECONDS:-5}"
FUZZ_MODE="${FUZZ_MODE:-cargo-fuzz}"

if [ "$FUZZ_MODE" = plain ]; then
    failed=()
    for dir in smbd/fuzz acceptor/fuzz acl/fuzz; do
        [ -f "$dir/Cargo.toml" ] || continue
        # The same dependency versions as the workspace, so its release artifacts are reused.
        cp Cargo.lock "$dir/Cargo.lock"
        echo "=== fuzz-build: plain build of $dir"
        start=$SECONDS
        if ! cargo build --release --manifest-path "$dir/Cargo.toml" --target-dir target --bins 2>&1 | tail -n 3; then
            failed+=("build $dir")
            continue
        fi
        echo "=== fuzz-build: $dir: built ($((SECONDS - start)) s)"
        for target in $(sed -n 's/^name = "\([a-z_0-9]*\)"$/\1/p' "$dir/Cargo.toml"); do
            bin="target/release/$target"
            [ -x "$bin" ] || { failed+=("missing $bin"); continue; }
            seeds=()
            [ -d "$dir/seeds/$target" ] && seeds+=("$dir/seeds/$target")
            if ! "$bin" "${seeds[@]}" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
                >"target/fuzz-$target.log" 2>&1; then
                echo "=== fuzz-build: $dir $target: FAILED (log target/fuzz-$target.log)"
                tail -n 20 "target/fuzz-$target.log"
                failed+=("run $dir $target")
            else
                echo "=== fuzz-build: $dir $target: $(grep -o 'Done [0-9]* runs' "target/fuzz-$target.log" | tail -n 1)"
            fi
        done
    done
    if [ ${#failed[@]} -gt 0 ]; then
        echo "=== fuzz-build: failed: ${failed[*]}"
        exit 1
    fi
    echo "=== fuzz-build: all fuzz targets built and ran"
    exit 0
fi
FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target/fuzz}"
CARGO_FUZZ_VERSION="${CARGO_FUZZ_VERSION:-0.13.2}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "=== fuzz-build: installing cargo-fuzz $CARGO_FUZZ_VERSION"
    start=$SECONDS
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" || {
        echo "=== fuzz-build: cannot install cargo-fuzz"
        exit 1
    }
    echo "=== fuzz-build: cargo-fuzz installed ($((SECONDS - start)) s)"
fi

failed=()
for dir in smbd/fuzz acceptor/fuzz acl/fuzz; do
    [ -f "$dir/Cargo.toml" ] || continue
    echo "=== fuzz-build: building $dir"
    start=$SECONDS
    if ! cargo fuzz build --fuzz-dir "$dir" --target-dir "$FUZZ_TARGET_DIR"; then
        echo "=== fuzz-build: $dir: build FAILED ($((SECONDS - start)) s)"
        failed+=("build $dir")
        continue
    fi
    echo "=== fuzz-build: $dir: built ($((SECONDS - start)) s)"
    [ "$FUZZ_SECONDS" -gt 0 ] || continue
    for target in $(cargo fuzz list --fuzz-dir "$dir"); do
        corpus="$dir/corpus/$target"
        mkdir -p "$corpus"
        dirs=("$corpus")
        [ -d "$dir/seeds/$target" ] && dirs+=("$dir/seeds/$target")
        echo "=== fuzz-build: running $dir $target for $FUZZ_SECONDS s"
        if ! cargo fuzz run --fuzz-dir "$dir" --target-dir "$FUZZ_TARGET_DIR" "$target" \
            "${dirs[@]}" -- -max_total_time="$FUZZ_SECONDS" -timeout=10 -print_final_stats=1 \
            2>&1 | tail -n 40; then
            echo "=== fuzz-build: $dir $target: FAILED (input in $dir/artifacts/$target)"
            failed+=("run $dir $target")
        fi
    done
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "=== fuzz-build: failed: ${failed[*]}"
    exit 1
fi
echo "=== fuzz-build: all fuzz targets ok"
