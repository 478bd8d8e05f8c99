#!/bin/sh
# log_audit.sh SOURCE_DIR BUILD_DIR - greps every log line of this ctest
# run for the secrets the tests configure, and fails on any hit.
#
# ctest keeps what each test program wrote in
# BUILD_DIR/Testing/Temporary/LastTest.log (LastTest.log.tmp while the run
# goes on, appended as each test ends): the log lines of in-process
# servers and syncs, the stderr of every edgepromo the tests ran (test_run
# and ops_cli echo it) and every serve.log of tests/ops (printed when its
# folder is removed). This test depends on every other test, so it runs
# last. The secrets are read from the test sources, examples and packaging:
# the token defines (#define ..._TOKEN "..."), the literal values of
# api_tokens and cms_token lines, and the customers' phone numbers of the
# test carts. Exit 77 (skipped) when the log holds no other test's output
# (the test was run alone).
set -eu
src=$1
build=$2
log=$build/Testing/Temporary/LastTest.log.tmp
secrets=$(mktemp)
trap 'rm -f "$secrets"' EXIT

scan() {
    grep -rhoE "$1" "$src/tests" "$src/examples" "$src/packaging" \
        --include='*.c' --include='*.h' --include='*.conf' \
        --include='*.json' --include='*.jsonl' --include='*.sh' \
        2>/dev/null || true
}

{
    scan '#define +[A-Z0-9_]*TOKEN[A-Z0-9_]* +"[^"]+"' |
        sed -E 's/.*"([^"]+)"$/\1/'
    scan '(api_tokens|cms_token) *= *[A-Za-z0-9][^"\\[:space:]]*' |
        sed -E 's/^[a-z_]+ *= *//' | tr ',' '\n'
    scan '\\?"phone\\?" *: *\\?"[^"\\]+' | sed -E 's/.*"//'
} | awk 'length($0) >= 8' | sort -u >"$secrets"

if [ ! -s "$log" ] || [ "$(grep -c '^[0-9]*/[0-9]* Test: ' "$log")" -lt 1 ]; then
    echo "log_audit: $log holds no other test's output: nothing to audit"
    exit 77
fi
lines=$(grep -c ' event=' "$log" || true)
tests=$(grep -c '^[0-9]*/[0-9]* Test: ' "$log")
echo "log_audit: $(wc -l <"$secrets") secrets, $tests tests, $lines event lines in $log"
if grep -n -F -f "$secrets" "$log" | grep -v 'log_audit' >&2; then
    echo "log_audit: FAILED: a token or phone number is in the log (above)" >&2
    exit 1
fi
echo "log_audit: no secret found"
