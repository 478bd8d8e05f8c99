/* cmd_db.c - `edgepromo init` and `edgepromo migrate`: the schema. */
#include <stdio.h>

#include "cli/cli.h"
#include "store/store.h"

/* Opens the store, migrates, and prints the schema version and steps. */
static enum ep_status migrate_and_report(struct cli_context *ctx,
                                         const char *verb)
{
    struct store *store = NULL;
    struct ep_buf out;
    int applied = 0;
    int version = 0;
    enum ep_status status;

    if (ctx->argc > 1)
        return cli_usage_error(ctx, "unexpected argument");
    ep_buf_init(&out, 4096);
    status = store_open(ctx->config.db, NULL, &store, &ctx->err);
    if (status == EP_OK)
        status = store_migrate(store, 0, &applied, &ctx->err);
    if (status == EP_OK)
        status = store_schema_version(store, &version, &ctx->err);
    if (status == EP_OK) {
        ep_buf_printf(&out,
                      "{\"%s\": true, \"engine\": \"%s\", "
                      "\"schema_version\": %d, \"migrations_applied\": %d}\n",
                      verb, store_engine_name(store), version, applied);
        status = cli_print(&out, &ctx->err);
    }
    store_close(store);
    ep_buf_deinit(&out);
    return status;
}

enum ep_status cli_cmd_init(struct cli_context *ctx)
{
    return migrate_and_report(ctx, "initialized");
}

enum ep_status cli_cmd_migrate(struct cli_context *ctx)
{
    return migrate_and_report(ctx, "migrated");
}
