#!/bin/sh
# Runs the ctest suite of each build folder given (default: build).
# Sanitizer builds abort on the first report, leaks included.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
[ "$#" -gt 0 ] || set -- build
for dir in "$@"; do
    echo "== ctest in $dir" >&2
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir "$dir" --output-on-failure -j"$jobs"
done
