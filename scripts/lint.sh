#!/bin/sh
# The lint step of STYLE.md section 8: calls the project does not make.
# Memory goes through src/common/mem.c (ep_malloc & co.); text is built with
# snprintf or struct ep_buf. Exits 1 and lists each offending line.
set -eu
cd "$(dirname "$0")/.."

banned='\b(malloc|calloc|realloc|free|sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|atof|gets)[[:space:]]*\('
found=$(grep -nE "$banned" src/*/*.c src/*/*.h bench/*.c 2>/dev/null |
    grep -vE '^src/common/mem\.c:' |
    grep -vE '(ep_|json_|sqlite3_|PQ|curl_|MHD_|ZSTD_)[a-z_]*(malloc|calloc|realloc|free)' |
    grep -vE '\b[a-z_]+_free[[:space:]]*\(' |
    grep -vE '^\S+:[0-9]+:\s*(\*|/\*)' || true)
if [ -n "$found" ]; then
    echo "lint: banned calls (STYLE.md section 8):" >&2
    echo "$found" >&2
    exit 1
fi
echo "lint: ok" >&2
