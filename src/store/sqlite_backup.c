/*
 * sqlite_backup.c - online backup and restore of the SQLite database,
 * with SQLite's backup API (sqlite3_backup_init/step/finish).
 *
 * Backup. The backup API copies pages from a source connection to a
 * destination. Left to itself it restarts from page 1 whenever another
 * connection writes the source between two steps, so under a steady stream
 * of checkouts a step-wise copy might never end. We hold one read
 * transaction on the source connection for the whole copy instead: every
 * step reads the same snapshot (the database as it stood when the backup
 * began), nothing restarts, and the copy is consistent. In WAL mode (the
 * store always uses it) a read transaction never blocks a writer: writers
 * append to the WAL while we read; only checkpoints cannot pass our
 * snapshot until we end, so the WAL grows for the length of the backup.
 * Steps are STORE_BACKUP_STEP_PAGES pages with a short pause between them,
 * so the copy's reads come in bursts the disk can interleave with commits.
 *
 *     BEGIN; SELECT ... (snapshot)  -> step 256, pause, step 256, ... DONE
 *     COMMIT (snapshot released)    -> copy: journal_mode=DELETE, fsync,
 *                                      rename "path.tmp" to path, fsync dir
 *
 * Restore. The same API the other way: from the file (read-only) into the
 * store's connection, all pages in one step, which is one write
 * transaction through the database's own WAL. Readers see the old content
 * or the new; a crash before the commit leaves the old content.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite_internal.h"

#define BACKUP_PATH_MAX      4096
#define BACKUP_STEP_PAUSE_MS 1
#define RESTORE_RETRY_MS     50

static int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens a plain connection on path for the copy, with a busy timeout. */
static enum ep_status open_file(const char *path, int flags, sqlite3 **out,
                                struct ep_error *err)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        ep_error_set(err, rc == SQLITE_CANTOPEN ? EP_ERR_IO : EP_ERR_DB, "file",
                     "%s: %s", path,
                     db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return err != NULL ? err->status : EP_ERR_IO;
    }
    sqlite3_busy_timeout(db, 5000);
    *out = db;
    return EP_OK;
}

/* Fails with the message of the connection that saw rc. */
static enum ep_status copy_fail(sqlite3 *db, int rc, const char *what,
                                struct ep_error *err)
{
    enum ep_status status = EP_ERR_DB;

    if ((rc & 0xff) == SQLITE_FULL)
        status = EP_ERR_DISK_FULL;
    else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        status = EP_ERR_DB_BUSY;
    else if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN)
        status = EP_ERR_IO;
    return ep_error_set(err, status, NULL, "%s: %s", what,
                        db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* ---- backup ----------------------------------------------------------- */

/* Opens the read transaction whose snapshot the backup copies. */
static enum ep_status snapshot_begin(struct sqlite_store *s,
                                     struct ep_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (sqlite_exec(s, "BEGIN", "backup: begin snapshot", err) != EP_OK)
        return err != NULL ? err->status : EP_ERR_DB;
    rc = sqlite3_prepare_v2(s->db, "SELECT COUNT(*) FROM sqlite_master", -1,
                            &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc == SQLITE_ROW)
        return EP_OK;
    sqlite_exec(s, "ROLLBACK", "backup: end snapshot", NULL);
    return sqlite_fail(s, rc, "backup: begin snapshot", err);
}

/*
 * Copies every page, a step at a time, from the open snapshot. After each
 * step the pages written so far go to disk (sync_fd): a copy that reached
 * the disk all at once at the end would make every writer's fsync wait
 * behind tens of megabytes (ext4 orders data before its journal commits).
 */
static enum ep_status copy_steps(sqlite3 *dest, sqlite3_backup *backup,
                                 int sync_fd,
                                 struct store_backup_report *report,
                                 struct ep_error *err)
{
    int busy_left = 5000 / BACKUP_STEP_PAUSE_MS;
    int rc;

    for (;;) {
        rc = sqlite3_backup_step(backup, STORE_BACKUP_STEP_PAGES);
        report->steps++;
        if (rc == SQLITE_DONE)
            break;
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            if (--busy_left <= 0)
                return copy_fail(dest, rc, "backup: copy", err);
        } else if (rc != SQLITE_OK) {
            return copy_fail(dest, rc, "backup: copy", err);
        }
        if (sync_fd >= 0)
            fdatasync(sync_fd);
        sqlite3_sleep(BACKUP_STEP_PAUSE_MS);
    }
    report->pages = sqlite3_backup_pagecount(backup);
    return EP_OK;
}

/*
 * Settings of the copy while it is written: no journal (a copy that fails
 * is deleted, never repaired), no syncs of SQLite's own (we sync as we go
 * and at the end), and a small cache, so that pages reach the file as the
 * steps go instead of all at the commit.
 */
static enum ep_status copy_prepare(sqlite3 *dest, struct ep_error *err)
{
    int rc = sqlite3_exec(dest,
                          "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                          "PRAGMA cache_size=-2048",
                          NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return copy_fail(dest, rc, "backup: prepare the copy", err);
    return EP_OK;
}

/* Makes the copy one self-contained file: rollback journal, not WAL. */
static enum ep_status copy_seal(sqlite3 *dest, struct ep_error *err)
{
    int rc = sqlite3_exec(dest, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return copy_fail(dest, rc, "backup: seal the copy", err);
    return EP_OK;
}

/* Runs the backup API from the snapshot of s into the file at tmp. */
static enum ep_status copy_to(struct sqlite_store *s, const char *tmp,
                              struct store_backup_report *report,
                              struct ep_error *err)
{
    sqlite3 *dest = NULL;
    sqlite3_backup *backup = NULL;
    enum ep_status status;
    int sync_fd = -1;
    int rc;

    status =
        open_file(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dest, err);
    if (status != EP_OK)
        return status;
    status = copy_prepare(dest, err);
    if (status != EP_OK)
        goto out;
    sync_fd = open(tmp, O_RDONLY);
    backup = sqlite3_backup_init(dest, "main", s->db, "main");
    if (backup == NULL) {
        status = copy_fail(dest, sqlite3_errcode(dest), "backup: start", err);
        goto out;
    }
    status = copy_steps(dest, backup, sync_fd, report, err);
    rc = sqlite3_backup_finish(backup);
    if (status == EP_OK && rc != SQLITE_OK)
        status = copy_fail(dest, rc, "backup: finish", err);
    if (status == EP_OK)
        status = copy_seal(dest, err);
out:
    if (sync_fd >= 0)
        close(sync_fd);
    if (sqlite3_close(dest) != SQLITE_OK && status == EP_OK)
        status = ep_error_set(err, EP_ERR_IO, "file", "backup: cannot close %s",
                              tmp);
    return status;
}

/* fsyncs a file or a folder. */
static bool sync_path(const char *path, int flags)
{
    int fd = open(path, flags);
    bool ok;

    if (fd < 0)
        return false;
    ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* Syncs tmp, renames it to path and syncs the folder holding path. */
static enum ep_status publish(const char *tmp, const char *path,
                              struct ep_error *err)
{
    char folder[BACKUP_PATH_MAX];
    char *slash;

    if (!sync_path(tmp, O_RDONLY) || rename(tmp, path) != 0)
        return ep_error_set(err, EP_ERR_IO, "file", "backup: %s: %s", path,
                            strerror(errno));
    snprintf(folder, sizeof(folder), "%s", path);
    slash = strrchr(folder, '/');
    if (slash == NULL)
        snprintf(folder, sizeof(folder), ".");
    else if (slash == folder)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (!sync_path(folder, O_RDONLY | O_DIRECTORY))
        return ep_error_set(err, EP_ERR_IO, "file", "backup: sync %s: %s",
                            folder, strerror(errno));
    return EP_OK;
}

/* Removes the temporary copy and its journal. */
static void remove_tmp(const char *tmp)
{
    char journal[BACKUP_PATH_MAX + 16];

    snprintf(journal, sizeof(journal), "%s-journal", tmp);
    unlink(journal);
    unlink(tmp);
}

enum ep_status sqlite_backup_to(struct store *store, const char *path,
                                struct store_backup_report *report_out,
                                struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    struct store_backup_report report = { 0 };
    char tmp[BACKUP_PATH_MAX];
    struct stat st;
    int64_t started = monotonic_ms();
    enum ep_status status;

    assert(!s->in_write && sqlite3_get_autocommit(s->db));
    if (strlen(path) + 8 >= sizeof(tmp))
        return ep_error_set(err, EP_ERR_INVALID, "file",
                            "backup: path too "
                            "long");
    if (stat(path, &st) == 0)
        return ep_error_set(err, EP_ERR_CONFLICT, "file",
                            "backup: %s exists: remove it or choose another "
                            "name",
                            path);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    remove_tmp(tmp);
    status = snapshot_begin(s, err);
    if (status != EP_OK)
        return status;
    status = store_schema_version(store, &report.schema_version, err);
    if (status == EP_OK)
        status = copy_to(s, tmp, &report, err);
    sqlite_exec(s, "COMMIT", "backup: end snapshot", NULL);
    if (status == EP_OK)
        status = publish(tmp, path, err);
    if (status != EP_OK) {
        remove_tmp(tmp);
        return status;
    }
    report.duration_ms = monotonic_ms() - started;
    if (report_out != NULL)
        *report_out = report;
    return EP_OK;
}

/* ---- restore ---------------------------------------------------------- */

/* Copies every page in one step, retrying while the database is locked. */
static enum ep_status restore_all(struct sqlite_store *s,
                                  sqlite3_backup *backup, struct ep_error *err)
{
    int64_t deadline = monotonic_ms() + s->busy_timeout_ms;
    int rc;

    for (;;) {
        rc = sqlite3_backup_step(backup, -1);
        if (rc == SQLITE_DONE)
            return EP_OK;
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
            monotonic_ms() > deadline)
            return copy_fail(s->db, rc, "restore: copy", err);
        sqlite3_sleep(RESTORE_RETRY_MS);
    }
}

enum ep_status sqlite_restore_from(struct store *store, const char *path,
                                   struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3 *source = NULL;
    sqlite3_backup *backup = NULL;
    enum ep_status status;
    int rc;

    assert(!s->in_write && sqlite3_get_autocommit(s->db));
    status = open_file(path, SQLITE_OPEN_READONLY, &source, err);
    if (status != EP_OK)
        return status;
    backup = sqlite3_backup_init(s->db, "main", source, "main");
    if (backup == NULL) {
        status =
            copy_fail(s->db, sqlite3_errcode(s->db), "restore: start", err);
        goto out;
    }
    status = restore_all(s, backup, err);
    rc = sqlite3_backup_finish(backup);
    if (status == EP_OK && rc != SQLITE_OK)
        status = copy_fail(s->db, rc, "restore: finish", err);
out:
    sqlite3_close(source);
    return status;
}
