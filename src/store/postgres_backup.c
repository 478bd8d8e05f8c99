/*
 * postgres_backup.c - backup and restore on PostgreSQL: not done by
 * edgepromo. A PostgreSQL database is backed up and restored with the
 * server's own tools (pg_dump, pg_restore, or the cluster's base backups
 * and WAL archiving), which see every edge node sharing it and the
 * server's own consistency rules; docs/operations.md gives the commands.
 * These functions only say so, clearly, with EP_ERR_CONFIG.
 */
#include "store/postgres_internal.h"

enum ep_status pg_backup_to(struct store *store, const char *path,
                            struct store_backup_report *report_out,
                            struct ep_error *err)
{
    (void)store;
    (void)path;
    (void)report_out;
    return ep_error_set(err, EP_ERR_CONFIG, "db",
                        "backup: db is PostgreSQL: use pg_dump "
                        "(pg_dump -Fc -f FILE URL; see "
                        "docs/operations.md)");
}

enum ep_status pg_restore_from(struct store *store, const char *path,
                               struct ep_error *err)
{
    (void)store;
    (void)path;
    return ep_error_set(err, EP_ERR_CONFIG, "db",
                        "restore: db is PostgreSQL: use pg_restore "
                        "(pg_restore --clean -d URL FILE; see "
                        "docs/operations.md)");
}
