#!/bin/sh
# Installs what is missing, builds edgepromo twice (normal, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs the whole test
# suite on both builds, with a throwaway PostgreSQL on 127.0.0.1 for the
# tests that use one; then runs every fuzz target for 60 s (fuzz/run.sh).
# Exits non-zero if anything fails.
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./scripts/lint.sh
jobs=$(nproc 2>/dev/null || echo 2)

cmake -B build -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
cmake -B build-asan -S . -DCMAKE_BUILD_TYPE=Debug -DEP_SANITIZE=ON \
    -DEP_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"

if [ -x scripts/with-postgres.sh ]; then
    ./scripts/with-postgres.sh ./scripts/run-tests.sh build build-asan
else
    ./scripts/run-tests.sh build build-asan
fi

# Every libFuzzer target for 60 s over its corpus (clang, ASan + UBSan):
# any crash, leak or broken invariant fails the run (docs/hardening.md).
./fuzz/run.sh 60
