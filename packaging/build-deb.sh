#!/bin/sh
# build-deb.sh [BUILD_DIR [OUT_DIR]] - builds the Debian package
# edgepromo_<version>_<arch>.deb from a built tree, with dpkg-deb.
#
#   cmake -B build -S . && cmake --build build -j && packaging/build-deb.sh build
#
# The package holds /usr/bin/edgepromo, the systemd units (the server and
# the nightly backup), the commented /etc/edgepromo/edgepromo.conf (a
# conffile: an edited one is never overwritten) and the docs; its
# maintainer scripts are in packaging/debian/. The version is the
# binary's own (`edgepromo --version`); EDGEPROMO_DEB_VERSION overrides it
# (the package test uses that to make an upgrade). Prints the .deb's path.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$(cd "${1:-$root/build}" && pwd)
out=$(cd "${2:-$build}" && pwd)

version=${EDGEPROMO_DEB_VERSION:-$("$build/edgepromo" --version | awk '{print $2}')}
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT

# Files.
DESTDIR="$stage" cmake --install "$build" --prefix /usr >/dev/null
strip --strip-unneeded "$stage/usr/bin/edgepromo"
install -D -m 0644 "$here/edgepromo.service" \
    "$stage/lib/systemd/system/edgepromo.service"
install -D -m 0644 "$here/edgepromo-backup.service" \
    "$stage/lib/systemd/system/edgepromo-backup.service"
install -D -m 0644 "$here/edgepromo-backup.timer" \
    "$stage/lib/systemd/system/edgepromo-backup.timer"
install -D -m 0755 "$here/edgepromo-backup" \
    "$stage/usr/lib/edgepromo/edgepromo-backup"
install -D -m 0640 "$here/edgepromo.conf" "$stage/etc/edgepromo/edgepromo.conf"
for doc in README.md docs/operations.md docs/api.md docs/sync.md \
    docs/store.md; do
    install -D -m 0644 "$root/$doc" "$stage/usr/share/doc/edgepromo/$(basename "$doc")"
done
install -D -m 0644 "$root/examples/edgepromo.conf" \
    "$stage/usr/share/doc/edgepromo/examples/edgepromo.conf"

# Control files. Library dependencies come from dpkg-shlibdeps, which
# wants a debian/control beside it.
mkdir -p "$stage/DEBIAN" "$stage/shlibs/debian"
printf 'Source: edgepromo\n\nPackage: edgepromo\nArchitecture: any\n' \
    >"$stage/shlibs/debian/control"
depends=$(cd "$stage/shlibs" &&
    dpkg-shlibdeps -O -e "$stage/usr/bin/edgepromo" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
rm -rf "$stage/shlibs"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: edgepromo
Version: $version
Architecture: $arch
Maintainer: edgepromo maintainers <edgepromo@localhost>
Section: net
Priority: optional
Installed-Size: $size
Depends: ${depends:-libc6}, passwd, init-system-helpers
Description: point-of-sale promotions server for one store
 edgepromo keeps a store's promotions in a local database synced from the
 company's CMS and answers the store's POS terminals over the LAN: which
 promotions are active, what discount a cart gets, and, at checkout, the
 record of each promotion's use, so that usage limits hold even offline.
 Runs as the systemd service edgepromo; see
 /usr/share/doc/edgepromo/operations.md.
CONTROL
install -m 0644 "$here/debian/conffiles" "$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$here/debian/$script" "$stage/DEBIAN/$script"
done

deb="$out/edgepromo_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
