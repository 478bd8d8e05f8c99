/*
 * backup.c - the engine-neutral part of backup and restore: the checks
 * made before a file may replace the database, and the dispatch to the
 * backend (sqlite_backup.c copies with SQLite's backup API;
 * postgres_backup.c points to pg_dump and pg_restore).
 *
 * A candidate for restore must be a SQLite file that passes
 * PRAGMA integrity_check and holds an edgepromo schema (the
 * schema_migrations table) no newer than this program's: an older one is
 * fine, store_migrate brings it up after the copy.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "store/internal.h"

enum ep_status store_backup_to(struct store *store, const char *path,
                               struct store_backup_report *report_out,
                               struct ep_error *err)
{
    assert(store != NULL && path != NULL);
    if (path[0] == '\0')
        return ep_error_set(err, EP_ERR_USAGE, "file", "backup: empty path");
    return store->ops->backup_to(store, path, report_out, err);
}

/* Refuses what is not a readable regular file. */
static enum ep_status check_file(const char *path, struct ep_error *err)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return ep_error_set(err, errno == ENOENT ? EP_ERR_NOT_FOUND : EP_ERR_IO,
                            "file", "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ep_error_set(err, EP_ERR_INVALID, "file",
                            "%s: not a regular file", path);
    return EP_OK;
}

/* Judges the schema version of a candidate against this program's. */
static enum ep_status check_version(const char *path, int version,
                                    struct ep_error *err)
{
    if (version < 1)
        return ep_error_set(err, EP_ERR_INVALID, "file",
                            "%s: not an edgepromo database (no "
                            "schema_migrations)",
                            path);
    if (version > store_schema_latest())
        return ep_error_set(err, EP_ERR_SCHEMA_NEWER, "file",
                            "%s: schema version %d is newer than this "
                            "program's %d: restore it with a newer edgepromo",
                            path, version, store_schema_latest());
    return EP_OK;
}

enum ep_status store_backup_check(const char *path, int *version_out,
                                  struct ep_error *err)
{
    struct store_options options = { .read_only = true };
    struct store *candidate = NULL;
    int version = 0;
    enum ep_status status;

    assert(path != NULL);
    status = check_file(path, err);
    if (status == EP_OK)
        status = store_sqlite_open(path, &options, &candidate, err);
    if (status == EP_OK)
        status = store_integrity_check(candidate, err);
    if (status == EP_OK)
        status = store_schema_version(candidate, &version, err);
    if (status == EP_OK)
        status = check_version(path, version, err);
    store_close(candidate);
    if (status == EP_OK && version_out != NULL)
        *version_out = version;
    if (status != EP_OK && err != NULL && strstr(err->message, path) == NULL)
        ep_error_prefix_message(err, "%s: ", path);
    return status;
}

enum ep_status store_restore_from(struct store *store, const char *path,
                                  struct ep_error *err)
{
    enum ep_status status;

    assert(store != NULL && path != NULL);
    if (strcmp(store_engine_name(store), "sqlite") != 0)
        return store->ops->restore_from(store, path, err);
    status = store_backup_check(path, NULL, err);
    if (status != EP_OK)
        return status;
    return store->ops->restore_from(store, path, err);
}
