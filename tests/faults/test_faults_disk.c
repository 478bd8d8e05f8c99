/*
 * test_faults_disk.c - a full disk and a failing disk under a sync and a
 * checkout: each must end in a clear error (EP_ERR_DISK_FULL or EP_ERR_IO
 * and a message naming the cause) and a database that is unchanged (every
 * row of promotions, promotion_usage, pos_transactions, holidays and
 * sync_state, by checksum, and PRAGMA integrity_check ok), and the store
 * must work again once there is room.
 *
 * Three ways to fill the disk: SQLite's own limit (PRAGMA max_page_count,
 * set on every new connection by an auto-extension, so the store's too),
 * the test VFS (faultvfs.c: no file may grow), and a real tmpfs of 2 MB
 * filled up with a ballast file (mounted in a private mount namespace;
 * skipped where the machine does not allow it). I/O errors come from the
 * test VFS: the Nth write, sync or truncate fails, and every one after it,
 * for N = 1, 2, ... until the operation runs through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"
#include "faults.h"
#include "faultvfs.h"
#include "support.h"
#include "sync/sync.h"
#include "usage/usage.h"

#define WALK_MAX     100000
#define TMPFS_SIZE   "size=2m,mode=0700"
#define BALLAST_NAME "ballast"

/* ---- SQLite's page limit, on every connection ----------------------- */

static long page_limit; /* 0: none */

static int apply_page_limit(sqlite3 *db, char **error,
                            const sqlite3_api_routines *api)
{
    char sql[64];

    (void)error;
    (void)api;
    if (page_limit <= 0)
        return SQLITE_OK;
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %ld", page_limit);
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* ---- the operations -------------------------------------------------- */

static enum ep_status sync_body(struct store *store, const struct faults_db *db,
                                const char *body, size_t length,
                                struct sync_report *report,
                                struct ep_error *err)
{
    struct sync_options options = { NULL, 1 };
    char *text = malloc(length + 1);
    enum ep_status status;

    assert_non_null(text);
    memcpy(text, body, length + 1);
    status = sync_apply_body(store, &db->config, SYNC_FULL, text, length,
                             &options, report, err);
    free(text);
    return status;
}

/* Commits cart (a big one when lines > 0, else example 02). */
static enum ep_status checkout(struct store *store, const struct faults_db *db,
                               size_t lines, const char *txn,
                               struct ep_error *err)
{
    struct ep_arena arena;
    struct ep_buf response;
    struct promo_set *set = faults_snapshot(store, db);
    struct cart *cart;
    bool replayed = false;
    enum ep_status status;

    ep_arena_init(&arena, 4096, (size_t)1 << 26);
    ep_buf_init(&response, (size_t)1 << 26);
    cart = lines > 0 ? faults_big_cart(lines, txn, &arena)
                     : faults_example_cart("02_kopi_member_qris_stacking.json",
                                           txn, &arena);
    status = usage_commit(store, set, cart, FAULTS_STORE_ID, FAULTS_NOW, &arena,
                          &response, &replayed, err);
    assert_false(replayed);
    ep_buf_deinit(&response);
    ep_arena_deinit(&arena);
    promo_set_release(set);
    return status;
}

/* The error says what happened: a status and its cause in words. */
static void check_error(enum ep_status status, const struct ep_error *err,
                        enum ep_status want, const char *words)
{
    if (status != want || err->status != want ||
        strstr(err->message, words) == NULL)
        fail_msg("expected %s (\"%s\"), got %s: %s", ep_status_name(want),
                 words, ep_status_name(status), err->message);
}

/*
 * A sync and a checkout on a full disk, then again with room. The store is
 * open and has read the database before the disk fills, as in a running
 * server; reopen: the limit only holds for connections opened under it.
 */
static void run_full_disk(struct faults_db *db, void (*fill)(bool full),
                          bool reopen, const char *label)
{
    struct faults_state before;
    struct faults_state after;
    struct sync_report report;
    struct ep_error err = { 0 };
    struct store *store;
    size_t length = 0;
    char *body = faults_changing_body(40, &length);
    enum ep_status status;

    faults_checkpoint(db->path);
    faults_state_read(db->path, false, &before);
    store = faults_store_open(db, false);
    promo_set_release(faults_snapshot(store, db));
    fill(true);
    if (reopen) {
        store_close(store);
        store = faults_store_open(db, false);
    }
    status = sync_body(store, db, body, length, &report, &err);
    check_error(status, &err, EP_ERR_DISK_FULL, "full");
    assert_int_equal(report.outcome, SYNC_FAILED);
    assert_non_null(strstr(report.message, "full"));
    print_message("%s: sync: %s\n", label, report.message);
    sync_report_deinit(&report);
    ep_error_clear(&err);
    status = checkout(store, db, 300, "faults-disk-1", &err);
    check_error(status, &err, EP_ERR_DISK_FULL, "full");
    print_message("%s: checkout: %s\n", label, err.message);
    fill(false);
    store_close(store);
    faults_state_read(db->path, false, &after);
    faults_state_assert_equal(&before, &after, label);
    /* With room again, both go through. */
    store = faults_store_open(db, false);
    assert_int_equal(sync_body(store, db, body, length, &report, NULL), EP_OK);
    sync_report_deinit(&report);
    assert_int_equal(checkout(store, db, 300, "faults-disk-1", NULL), EP_OK);
    store_close(store);
    faults_state_read(db->path, false, &after);
    assert_int_equal(after.rows[FAULTS_TRANSACTIONS],
                     before.rows[FAULTS_TRANSACTIONS] + 1);
    free(body);
}

/* ---- disk full: SQLite's page limit ------------------------------------ */

static const char *page_limit_path;

static void fill_page_limit(bool full)
{
    page_limit = full ? (long)faults_page_count(page_limit_path) : 0;
}

static void test_disk_full_page_limit(void **state)
{
    struct faults_db db;

    (void)state;
    faults_db_create(&db, NULL, true);
    page_limit_path = db.path;
    run_full_disk(&db, fill_page_limit, true, "page limit");
    faults_db_destroy(&db);
}

/* ---- disk full: no file may grow --------------------------------------- */

static void fill_vfs(bool full)
{
    faultvfs_disk_full(full);
}

static void test_disk_full_vfs(void **state)
{
    struct faults_db db;

    (void)state;
    faults_db_create(&db, NULL, true);
    run_full_disk(&db, fill_vfs, false, "no growth");
    faults_db_destroy(&db);
}

/* ---- disk full: a real tmpfs of 2 MB ----------------------------------- */

/* A private mount namespace, as root or as a user namespace's root. */
static bool private_mounts(void)
{
    char map[64];
    uid_t uid = getuid();
    gid_t gid = getgid();
    int fd;

    if (unshare(CLONE_NEWNS) != 0) {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            return false;
        fd = open("/proc/self/setgroups", O_WRONLY);
        if (fd >= 0) {
            (void)!write(fd, "deny", 4);
            close(fd);
        }
        snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
        if (!test_write_file("/proc/self/uid_map", map))
            return false;
        snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
        if (!test_write_file("/proc/self/gid_map", map))
            return false;
    }
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

static char ballast_path[600];

/* Writes the ballast until the file system says it is full. */
static void fill_tmpfs(bool full)
{
    static char block[4096];
    int fd;

    if (!full) {
        assert_int_equal(unlink(ballast_path), 0);
        return;
    }
    fd = open(ballast_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    while (write(fd, block, sizeof(block)) > 0)
        ;
    while (write(fd, block, 1) > 0)
        ;
    assert_int_equal(errno, ENOSPC);
    close(fd);
}

static void test_disk_full_tmpfs(void **state)
{
    char mount_dir[512];
    char parent[512];
    struct faults_db db;

    (void)state;
    test_tmpdir(parent, sizeof(parent));
    snprintf(mount_dir, sizeof(mount_dir), "%s/tiny", parent);
    assert_int_equal(mkdir(mount_dir, 0700), 0);
    if (!private_mounts() ||
        mount("tmpfs", mount_dir, "tmpfs", 0, TMPFS_SIZE) != 0) {
        print_message("no tmpfs can be mounted here (%s): skipped; the page "
                      "limit and VFS tests stand in\n",
                      strerror(errno));
        test_rmdir(parent);
        skip();
    }
    faults_db_create(&db, mount_dir, true);
    snprintf(ballast_path, sizeof(ballast_path), "%s/%s", mount_dir,
             BALLAST_NAME);
    run_full_disk(&db, fill_tmpfs, false, "tmpfs full");
    faults_db_destroy(&db);
    assert_int_equal(umount2(mount_dir, 0), 0);
    test_rmdir(parent);
}

/* ---- I/O errors: the Nth write, sync or truncate and all after it ---- */

/* A copy of the template database, WAL and all, at path. */
static void restore(const char *template_path, const char *path)
{
    size_t length = 0;
    char *data = test_read_file(template_path, &length);
    char wal[700];
    FILE *file;

    assert_non_null(data);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    unlink(wal);
    file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, length, file), length);
    fclose(file);
    free(data);
}

/* What one operation does to a store (sync or checkout). */
typedef enum ep_status (*operation_fn)(struct store *store,
                                       const struct faults_db *db,
                                       struct ep_error *err);

static char *walk_body;
static size_t walk_body_length;

static enum ep_status do_sync(struct store *store, const struct faults_db *db,
                              struct ep_error *err)
{
    struct sync_report report;
    enum ep_status status =
        sync_body(store, db, walk_body, walk_body_length, &report, err);

    if (status != EP_OK)
        assert_int_equal(report.outcome, SYNC_FAILED);
    sync_report_deinit(&report);
    return status;
}

static enum ep_status do_checkout(struct store *store,
                                  const struct faults_db *db,
                                  struct ep_error *err)
{
    return checkout(store, db, 0, "faults-io-1", err);
}

/* The state after op without faults, from the template. */
static void reference_state(struct faults_db *db, const char *template_path,
                            operation_fn op, struct faults_state *out)
{
    struct store *store;

    restore(template_path, db->path);
    store = faults_store_open(db, false);
    assert_int_equal(op(store, db, NULL), EP_OK);
    store_close(store);
    faults_state_read(db->path, true, out);
}

/*
 * After a failure the database holds what it held before. Only a failed
 * sync (fsync) leaves a doubt: the commit's pages were written and may
 * have reached the disk, so after a restart the change is there or not,
 * whole either way; never half.
 */
static void check_after_failure(const struct faults_db *db,
                                const struct faults_state *before,
                                const struct faults_state *done, long nth,
                                bool *ambiguous)
{
    struct faults_state now;
    struct faults_state stable;
    char when[64];

    snprintf(when, sizeof(when), "I/O error from operation %ld", nth);
    faults_state_read(db->path, false, &now);
    if (faults_state_equal(before, &now))
        return;
    faults_state_read(db->path, true, &stable);
    if (faultvfs_first_failure() == FAULTVFS_SYNC &&
        faults_state_equal(done, &stable)) {
        *ambiguous = true;
        return;
    }
    faults_state_assert_equal(before, &now, when);
}

static long walk_io_errors(operation_fn op, const char *label)
{
    struct faults_db db;
    struct faults_state before;
    struct faults_state done;
    char template_path[700];
    long failures = 0;
    long ambiguous = 0;

    faults_db_create(&db, NULL, true);
    faults_checkpoint(db.path);
    snprintf(template_path, sizeof(template_path), "%s/template.db", db.dir);
    assert_int_equal(rename(db.path, template_path), 0);
    reference_state(&db, template_path, op, &done);
    restore(template_path, db.path);
    faults_state_read(db.path, false, &before);
    for (long nth = 1; nth < WALK_MAX; nth++) {
        struct ep_error err = { 0 };
        struct store *store;
        enum ep_status status;
        bool doubt = false;
        restore(template_path, db.path);
        store = faults_store_open(&db, false);
        faultvfs_fail_from(nth);
        status = op(store, &db, &err);
        faultvfs_off();
        store_close(store);
        if (faultvfs_first_failure() == FAULTVFS_NONE) {
            assert_int_equal(status, EP_OK);
            break;
        }
        if (status == EP_OK) {
            /* The failure came after the commit (the log row): all done. */
            struct faults_state now;
            faults_state_read(db.path, true, &now);
            faults_state_assert_equal(&done, &now, "I/O error after commit");
            continue;
        }
        check_error(status, &err, EP_ERR_IO, "I/O");
        if (failures == 0)
            print_message("%s: %s\n", label, err.message);
        check_after_failure(&db, &before, &done, nth, &doubt);
        ambiguous += doubt;
        failures++;
    }
    print_message("%s: %ld I/O errors injected in turn (%ld after the "
                  "commit's pages were written)\n",
                  label, failures, ambiguous);
    faults_db_destroy(&db);
    return failures;
}

static void test_sync_io_errors(void **state)
{
    (void)state;
    walk_body = faults_changing_body(6, &walk_body_length);
    assert_true(walk_io_errors(do_sync, "sync") > 5);
    free(walk_body);
}

static void test_checkout_io_errors(void **state)
{
    (void)state;
    assert_true(walk_io_errors(do_checkout, "checkout") > 2);
}

static int setup(void **state)
{
    (void)state;
    ep_mem_install_json_allocator();
    ep_log_set_level(EP_LOG_OFF);
    assert_int_equal(ep_tz_apply("Asia/Jakarta", NULL), EP_OK);
    assert_int_equal(sqlite3_auto_extension((void (*)(void))apply_page_limit),
                     SQLITE_OK);
    faultvfs_install();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_full_page_limit),
        cmocka_unit_test(test_disk_full_vfs),
        cmocka_unit_test(test_sync_io_errors),
        cmocka_unit_test(test_checkout_io_errors),
        cmocka_unit_test(test_disk_full_tmpfs),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
