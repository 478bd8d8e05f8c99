/*
 * cmd_backup.c - `edgepromo backup FILE` and `edgepromo restore FILE`: a
 * consistent copy of the SQLite database while the server runs, and the
 * way back (store_backup_to, store_restore_from; docs/operations.md).
 *
 * backup refuses an existing FILE (so a slip of the hand never writes over
 * the live database) and never migrates or writes the database it copies.
 * Both open the database read-write, as the server does: a read-only
 * connection would leave -wal and -shm files behind, owned by whoever ran
 * it. Run them as the service's user (docs/operations.md).
 * restore checks FILE first (integrity_check, an edgepromo schema no newer
 * than this program's), keeps the database it replaces as
 * "<db>.before-restore-<UTC time>", copies FILE in, then migrates. A
 * running server sees the restored rows at its next query and reloads its
 * promotions within a second (the data version changed); stopping the
 * service first is still the safer way (docs/operations.md).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/localtime.h"
#include "common/log.h"
#include "store/store.h"

#define SAFETY_PATH_MAX 4200

/* The SQLite file of the config's db, or NULL for PostgreSQL. */
static const char *sqlite_path(const char *db)
{
    if (strncmp(db, "postgresql://", 13) == 0 ||
        strncmp(db, "postgres://", 11) == 0)
        return NULL;
    return strncmp(db, "sqlite:", 7) == 0 ? db + 7 : db;
}

/* Refuses a missing database: backup never creates one. */
static enum ep_status require_database(struct cli_context *ctx)
{
    const char *path = sqlite_path(ctx->config.db);

    if (path == NULL || access(path, F_OK) == 0)
        return EP_OK;
    return ep_error_set(&ctx->err, EP_ERR_NOT_FOUND, "db",
                        "db: %s does not exist (nothing to back up)", path);
}

static void write_backup_json(const char *file,
                              const struct store_backup_report *r,
                              struct ep_buf *out)
{
    char quoted[1024];

    ep_buf_puts(out, "{\"backup\": ");
    ep_buf_json_string(out, file);
    ep_buf_printf(out,
                  ", \"engine\": \"sqlite\", \"schema_version\": %d, "
                  "\"pages\": %lld, \"steps\": %lld, \"duration_ms\": %lld}\n",
                  r->schema_version, (long long)r->pages, (long long)r->steps,
                  (long long)r->duration_ms);
    ep_log(EP_LOG_INFO, "backup.done", "file=%s pages=%lld ms=%lld",
           ep_log_quote(file, quoted, sizeof(quoted)), (long long)r->pages,
           (long long)r->duration_ms);
}

enum ep_status cli_cmd_backup(struct cli_context *ctx)
{
    struct store_backup_report report = { 0 };
    struct store *store = NULL;
    struct ep_buf out;
    enum ep_status status;

    if (ctx->argc != 2)
        return cli_usage_error(ctx, "expected one FILE");
    status = require_database(ctx);
    if (status != EP_OK)
        return status;
    ep_buf_init(&out, 8192);
    status = store_open(ctx->config.db, NULL, &store, &ctx->err);
    if (status == EP_OK)
        status = store_backup_to(store, ctx->argv[1], &report, &ctx->err);
    if (status == EP_OK) {
        write_backup_json(ctx->argv[1], &report, &out);
        status = cli_print(&out, &ctx->err);
    }
    store_close(store);
    ep_buf_deinit(&out);
    return status;
}

/* ---- restore ---------------------------------------------------------- */

/* What a restore did, for its output. */
struct restore_result {
    int file_version;             /* schema version of FILE */
    int applied;                  /* migrations run after the copy */
    char safety[SAFETY_PATH_MAX]; /* copy of the replaced db, or "" */
};

/*
 * Keeps the database about to be replaced as <db>.before-restore-<time>,
 * when it holds an edgepromo schema (a fresh file has nothing to keep).
 */
static enum ep_status keep_safety_copy(struct cli_context *ctx,
                                       struct store *store,
                                       struct restore_result *r)
{
    char stamp[EP_TIMESTAMP_TEXT_MAX];
    int version = 0;
    enum ep_status status;

    status = store_schema_version(store, &version, &ctx->err);
    if (status != EP_OK || version == 0)
        return status;
    ep_timestamp_format_utc(ep_now(), stamp);
    stamp[10] = 'T';
    for (char *p = stamp; *p != '\0'; p++) {
        if (*p == ':')
            *p = '-';
    }
    snprintf(r->safety, sizeof(r->safety), "%s.before-restore-%sZ",
             sqlite_path(ctx->config.db), stamp);
    return store_backup_to(store, r->safety, NULL, &ctx->err);
}

static void write_restore_json(struct cli_context *ctx,
                               const struct restore_result *r,
                               struct ep_buf *out)
{
    char quoted[1024];

    ep_buf_puts(out, "{\"restored\": ");
    ep_buf_json_string(out, ctx->argv[1]);
    ep_buf_puts(out, ", \"db\": ");
    ep_buf_json_string(out, sqlite_path(ctx->config.db));
    ep_buf_printf(out,
                  ", \"file_schema_version\": %d, \"migrations_applied\": %d, "
                  "\"schema_version\": %d, \"safety_copy\": ",
                  r->file_version, r->applied, store_schema_latest());
    ep_buf_json_string(out, r->safety[0] != '\0' ? r->safety : NULL);
    ep_buf_puts(out, "}\n");
    ep_log(EP_LOG_INFO, "restore.done", "file=%s migrations=%d",
           ep_log_quote(ctx->argv[1], quoted, sizeof(quoted)), r->applied);
}

/* Checks FILE, keeps the old database, copies FILE in and migrates. */
static enum ep_status restore(struct cli_context *ctx, struct store *store,
                              struct restore_result *r)
{
    enum ep_status status;

    if (sqlite_path(ctx->config.db) == NULL)
        return store_restore_from(store, ctx->argv[1], &ctx->err);
    status = store_backup_check(ctx->argv[1], &r->file_version, &ctx->err);
    if (status == EP_OK)
        status = keep_safety_copy(ctx, store, r);
    if (status == EP_OK)
        status = store_restore_from(store, ctx->argv[1], &ctx->err);
    if (status == EP_OK)
        status = store_migrate(store, 0, &r->applied, &ctx->err);
    return status;
}

enum ep_status cli_cmd_restore(struct cli_context *ctx)
{
    struct restore_result result;
    struct store *store = NULL;
    struct ep_buf out;
    enum ep_status status;

    if (ctx->argc != 2)
        return cli_usage_error(ctx, "expected one FILE");
    memset(&result, 0, sizeof(result));
    ep_buf_init(&out, 16384);
    status = store_open(ctx->config.db, NULL, &store, &ctx->err);
    if (status == EP_OK)
        status = restore(ctx, store, &result);
    if (status == EP_OK) {
        write_restore_json(ctx, &result, &out);
        status = cli_print(&out, &ctx->err);
    }
    store_close(store);
    ep_buf_deinit(&out);
    return status;
}
