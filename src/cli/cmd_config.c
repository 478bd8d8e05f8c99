/* cmd_config.c - `edgepromo config`: the effective values, secrets masked. */
#include "cli/cli.h"

enum ep_status cli_cmd_config(struct cli_context *ctx)
{
    struct ep_buf out;
    enum ep_status status;

    if (ctx->argc > 1)
        return cli_usage_error(ctx, "unexpected argument");
    ep_buf_init(&out, 64 * 1024);
    ep_config_to_json(&ctx->config, &out);
    status = cli_print(&out, &ctx->err);
    ep_buf_deinit(&out);
    return status;
}
