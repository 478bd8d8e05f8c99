/*
 * cmd_serve.c - `edgepromo serve`: the POS API until SIGTERM or SIGINT.
 *
 * Checks that the config names the company and the store, brings the
 * database to the latest schema, then hands over to api_serve, which loads
 * the promotions, listens on `listen` with `threads` workers, and stops
 * gracefully on a signal (requests in flight finish, the database closes).
 */
#include "api/api.h"
#include "cli/cli.h"
#include "store/store.h"

enum ep_status cli_cmd_serve(struct cli_context *ctx)
{
    struct store *store = NULL;
    enum ep_status status;

    if (ctx->argc > 1)
        return cli_usage_error(ctx, "unexpected argument");
    status = ep_config_require(&ctx->config, "company_id", &ctx->err);
    if (status == EP_OK)
        status = ep_config_require(&ctx->config, "store_id", &ctx->err);
    if (status == EP_OK)
        status = cli_store_open(ctx, &store);
    store_close(store);
    if (status != EP_OK)
        return status;
    return api_serve(&ctx->config, NULL, &ctx->err);
}
