#!/bin/sh
# fuzz/run.sh [SECONDS [TARGET...]] - builds the libFuzzer targets with
# clang (ASan + UBSan, build-fuzz/) and runs each for SECONDS (default 60)
# over its corpus in fuzz/corpus/TARGET with its dictionary. The corpus in
# the repository is only read: what a run adds goes to
# build-fuzz/fuzz-work/TARGET/corpus, emptied first. Exits non-zero on the
# first crash, leak, sanitizer report or broken invariant, and leaves the
# input that caused it in build-fuzz/fuzz-work/TARGET/ (crash-*, leak-*,
# timeout-*).
#
#   fuzz/run.sh                   every target, 60 s each (what CI runs)
#   fuzz/run.sh 1800 fuzz_cart    one target, 30 minutes
set -eu
cd "$(dirname "$0")/.."

seconds=${1:-60}
[ "$#" -gt 0 ] && shift
all="fuzz_sync_payload fuzz_rules_compile fuzz_cart fuzz_http fuzz_config"
targets=${*:-$all}
jobs=$(nproc 2>/dev/null || echo 2)

CC=clang cmake -B build-fuzz -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEP_FUZZ=ON -DEP_SANITIZE=ON -DEP_BUILD_TESTS=OFF -DEP_BUILD_BENCH=OFF \
    >/dev/null
# shellcheck disable=SC2086
cmake --build build-fuzz -j"$jobs" --target $targets

for target in $targets; do
    work="build-fuzz/fuzz-work/$target"
    rm -rf "$work"
    mkdir -p "$work/corpus"
    echo "== fuzz: $target for ${seconds}s" >&2
    if ! (cd "$work" &&
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            "../../fuzz/$target" -max_total_time="$seconds" -timeout=25 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -dict="../../../fuzz/$target.dict" \
            corpus "../../../fuzz/corpus/$target" >log 2>&1); then
        tail -n 60 "$work/log" >&2
        echo "fuzz: $target failed; its input is in $work" >&2
        exit 1
    fi
    grep -a '^#.*DONE\|stat::number_of_executed_units' "$work/log" >&2 || true
done
