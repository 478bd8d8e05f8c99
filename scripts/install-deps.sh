#!/bin/sh
# Installs the Debian 12 packages edgepromo needs to build, test and run.
# A no-op when everything is already installed. chromium (headless) drives
# the status page's browser test; systemd gives systemd-analyze and
# dpkg-dev dpkg-shlibdeps for the package test (tests/ops).
set -eu

packages="build-essential cmake pkg-config git ca-certificates tzdata \
libsqlite3-dev sqlite3 libcurl4-openssl-dev libjansson-dev \
libmicrohttpd-dev libpq-dev libcmocka-dev python3 \
postgresql clang libclang-rt-14-dev valgrind wrk \
chromium systemd dpkg-dev"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: installing:$missing" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
