#!/bin/sh
# fuzz/coverage.sh [CORPUS_ROOT] - line coverage of the code each fuzz
# target is for, reached by its corpus: builds the targets with clang's
# source-based coverage (build-fuzz-cov/, no sanitizers), runs each once
# over CORPUS_ROOT/TARGET (default fuzz/corpus/TARGET) and prints
# llvm-cov's report for the files the target is about. By hand; not in CI.
set -eu
cd "$(dirname "$0")/.."

root=${1:-fuzz/corpus}
jobs=$(nproc 2>/dev/null || echo 2)
flags="-fprofile-instr-generate -fcoverage-mapping"

CC=clang cmake -B build-fuzz-cov -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEP_FUZZ=ON -DEP_BUILD_TESTS=OFF -DEP_BUILD_BENCH=OFF \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build build-fuzz-cov -j"$jobs" --target fuzz_sync_payload \
    fuzz_rules_compile fuzz_cart fuzz_http fuzz_config >/dev/null

# The files each target is about (what its coverage figure counts).
files_of() {
    case $1 in
    fuzz_sync_payload) echo src/sync/scan.c src/sync/payload.c \
        src/sync/promotion.c ;;
    fuzz_rules_compile) echo src/engine/compile.c src/engine/promo_set.c \
        src/engine/kinds.c src/engine/checks.c src/engine/evaluate.c ;;
    fuzz_cart) echo src/engine/cart.c src/common/money.c \
        src/engine/evaluate.c src/engine/kinds.c src/engine/result_json.c ;;
    fuzz_http) echo src/api/fuzz_entry.c src/api/routes.c src/api/errors.c \
        src/api/cart.c src/api/promotions.c src/api/sync_routes.c \
        src/api/health.c src/usage/usage.c ;;
    fuzz_config) echo src/common/config.c ;;
    esac
}

for target in fuzz_sync_payload fuzz_rules_compile fuzz_cart fuzz_http \
    fuzz_config; do
    out=build-fuzz-cov/cov/$target
    mkdir -p "$out"
    LLVM_PROFILE_FILE="$out/%p.profraw" \
        "build-fuzz-cov/fuzz/$target" -runs=0 "$root/$target" \
        >"$out/log" 2>&1
    llvm-profdata merge -sparse "$out"/*.profraw -o "$out/merged.profdata"
    echo "== $target ($(ls "$root/$target" | wc -l) inputs)"
    # shellcheck disable=SC2046
    llvm-cov report "build-fuzz-cov/fuzz/$target" \
        -instr-profile="$out/merged.profdata" $(files_of "$target") |
        sed "s|^$(pwd)/||" | awk '$1 != "Filename" && $1 !~ /^-/ {
            printf "  %-24s lines %5s, missed %4s: %s\n", $1, $8, $9, $10 }'
done
