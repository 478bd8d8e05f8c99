#!/bin/sh
# test_ops_package.sh SOURCE_DIR BUILD_DIR - the Debian package on this
# machine, as store IT would live with it (root only; CI runs as root on a
# fresh Debian 12):
#
#   build the .deb (packaging/build-deb.sh); dpkg -i; /usr/bin/edgepromo
#   --version; systemd-analyze verify on the installed units; the config is
#   a conffile owned root:edgepromo 0640; the service user makes the
#   database; edit the config; reinstall the same version and upgrade to a
#   newer one (postinst migrates as the service user): the edit and every
#   row survive; dpkg -r keeps the database and the config; dpkg -P removes
#   the config and still keeps the database. Then everything the test made
#   is removed, so nothing stays installed.
#
# Exit 77 (skipped) when not root, without dpkg-deb, or when edgepromo is
# already installed here (a real install is never touched).
set -eu
src=$1
build=$2
conf=/etc/edgepromo/edgepromo.conf
db=/var/lib/edgepromo/edge.db

if [ "$(id -u)" -ne 0 ] || ! command -v dpkg-deb >/dev/null; then
    echo "test_ops_package: needs root and dpkg-deb: skipped"
    exit 77
fi
if dpkg-query -W -f='${Status}' edgepromo 2>/dev/null | grep -q installed ||
    [ -e /var/lib/edgepromo ] || [ -e /etc/edgepromo ] ||
    getent passwd edgepromo >/dev/null; then
    echo "test_ops_package: edgepromo is (or was) installed here: skipped"
    exit 77
fi

work=$(mktemp -d)
chmod 0755 "$work"
cleanup() {
    dpkg -P edgepromo >/dev/null 2>&1 || true
    rm -rf /var/lib/edgepromo /var/backups/edgepromo /etc/edgepromo
    userdel edgepromo >/dev/null 2>&1 || true
    groupdel edgepromo >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "test_ops_package: FAILED: $*" >&2
    exit 1
}

step() {
    echo "== $*"
}

as_service() {
    runuser -u edgepromo -- /usr/bin/edgepromo --config "$conf" "$@"
}

count() {
    sqlite3 "$db" "SELECT COUNT(*) FROM $1"
}

step "build the packages"
deb=$("$src/packaging/build-deb.sh" "$build" "$work")
version=$("$build/edgepromo" --version | awk '{print $2}')
newer=$(EDGEPROMO_DEB_VERSION="$version+upgrade1" \
    "$src/packaging/build-deb.sh" "$build" "$work")
dpkg-deb -I "$deb" | grep -q "Package: edgepromo" || fail "no control"
dpkg-deb -I "$deb" conffiles | grep -qx "$conf" || fail "config not a conffile"

step "install on a machine that never had it"
dpkg -i "$deb"
[ "$(/usr/bin/edgepromo --version)" = "edgepromo $version" ] ||
    fail "edgepromo --version from /usr/bin"
getent passwd edgepromo >/dev/null || fail "no edgepromo user"
[ "$(stat -c '%U:%G %a' "$conf")" = "root:edgepromo 640" ] ||
    fail "config ownership: $(stat -c '%U:%G %a' "$conf")"
[ "$(stat -c '%U %a' /var/lib/edgepromo)" = "edgepromo 750" ] ||
    fail "state folder: $(stat -c '%U %a' /var/lib/edgepromo)"

step "systemd-analyze verify the installed units (no error, no warning)"
systemd-analyze verify /lib/systemd/system/edgepromo.service \
    /lib/systemd/system/edgepromo-backup.service \
    /lib/systemd/system/edgepromo-backup.timer >"$work/verify.out" 2>&1 ||
    { cat "$work/verify.out"; fail "systemd-analyze verify"; }
if [ -s "$work/verify.out" ]; then
    cat "$work/verify.out"
    fail "systemd-analyze verify warned"
fi

step "store IT configures it and loads the example store"
cat >>"$conf" <<CONF

# edited by store IT
company_id = 812e76b6-f235-4bb2-948a-cae58ee62b97
store_id = ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c
timezone = Asia/Jakarta
CONF
cp "$src/examples/full_sync.json" "$work/full_sync.json"
chmod 0644 "$work/full_sync.json"
as_service sync --from "$work/full_sync.json" >/dev/null
[ "$(stat -c '%U' "$db")" = edgepromo ] || fail "database not the user's"
promotions=$(count promotions)
logs=$(count promotion_sync_log)
[ "$promotions" -gt 0 ] || fail "no promotions loaded"
sum=$(md5sum "$conf")

step "backup as the service would (edgepromo-backup)"
runuser -u edgepromo -- env EDGEPROMO_CONFIG="$conf" \
    /usr/lib/edgepromo/edgepromo-backup
ls /var/backups/edgepromo/edge-*.db >/dev/null || fail "no nightly backup"

step "reinstall the same version"
dpkg -i "$deb"
[ "$(md5sum "$conf")" = "$sum" ] || fail "reinstall changed the config"
[ "$(count promotions)" = "$promotions" ] || fail "reinstall lost promotions"
[ ! -e "$conf.dpkg-new" ] && [ ! -e "$conf.dpkg-dist" ] ||
    fail "dpkg left a new config beside the edited one"

step "upgrade to a newer version (postinst migrates as the service user)"
dpkg -i "$newer" | tee "$work/upgrade.out"
grep -q '"migrated": true' "$work/upgrade.out" || fail "postinst did not migrate"
[ "$(md5sum "$conf")" = "$sum" ] || fail "upgrade changed the config"
[ "$(count promotions)" = "$promotions" ] || fail "upgrade lost promotions"
[ "$(count promotion_sync_log)" = "$logs" ] || fail "upgrade lost sync log"
[ "$(stat -c '%U' "$db")" = edgepromo ] || fail "database changed owner"
[ "$(/usr/bin/edgepromo --version)" = "edgepromo $version" ] ||
    fail "upgraded binary"

step "remove: the database and the config stay"
dpkg -r edgepromo
[ ! -e /usr/bin/edgepromo ] || fail "binary left after remove"
[ -f "$db" ] || fail "remove deleted the database"
[ "$(count promotions)" = "$promotions" ] || fail "remove changed the database"
[ -f "$conf" ] || fail "remove deleted the config"

step "purge: the config goes, the database stays"
dpkg -P edgepromo
[ ! -e "$conf" ] || fail "purge kept the config"
[ -f "$db" ] || fail "purge deleted the database"
echo "test_ops_package: passed"
