/*
 * cmd_demo.c - `edgepromo demo`: the main job of the README. Brings the
 * configured database to the latest schema, loads the example store's
 * export into it (a full sync from a file, logged "manual"; usage history
 * is kept, so it can run again), says on stderr what it loaded and how to
 * reach the server, and serves the POS API until SIGTERM or SIGINT.
 * With --no-serve it prints the promotions active now and stops.
 */
#include <getopt.h>
#include <stdio.h>

#include "api/api.h"
#include "cli/cli.h"
#include "common/localtime.h"
#include "engine/engine.h"
#include "store/store.h"
#include "sync/sync.h"

struct demo_options {
    const char *from; /* the full-sync export to load */
    bool serve;       /* serve after loading */
};

static enum ep_status parse_demo(struct cli_context *ctx,
                                 struct demo_options *o)
{
    static const struct option options[] = {
        { "from", required_argument, NULL, 'f' },
        { "no-serve", no_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    o->from = "examples/full_sync.json";
    o->serve = true;
    while ((opt = getopt_long(ctx->argc, ctx->argv, "", options, NULL)) != -1) {
        if (opt == 'f')
            o->from = optarg;
        else if (opt == 'n')
            o->serve = false;
        else
            return cli_usage_error(ctx, "unknown option");
    }
    if (optind < ctx->argc)
        return cli_usage_error(ctx, "unexpected argument");
    return EP_OK;
}

/* Loads the export; prints the sync report on stderr. */
static enum ep_status load_example(struct cli_context *ctx, struct store *store,
                                   const char *from)
{
    struct sync_report report;
    struct ep_buf out;
    enum ep_status status;

    ep_buf_init(&out, 1 << 20);
    status =
        sync_import_file(store, &ctx->config, from, NULL, &report, &ctx->err);
    sync_report_write_json(&report, &out);
    if (out.data != NULL)
        fprintf(stderr, "edgepromo demo: loaded %s: %s\n", from, out.data);
    sync_report_deinit(&report);
    ep_buf_deinit(&out);
    return status;
}

/* Prints the promotions in force now, as `promotions --active` does. */
static enum ep_status print_active(struct cli_context *ctx, struct store *store)
{
    struct promo_set *set = NULL;
    struct ep_buf out;
    int64_t now = ep_now();
    size_t active = 0;
    enum ep_status status;

    ep_buf_init(&out, (size_t)1 << 28);
    status = sync_snapshot_load(store, &ctx->config, &set, &ctx->err);
    ep_buf_puts(&out, "{\"active\":[");
    for (size_t i = 0; status == EP_OK && i < promo_set_count(set); i++) {
        if (!promo_set_is_active_at(set, i, now, NULL))
            continue;
        ep_buf_puts(&out, active++ == 0 ? "\n" : ",\n");
        promo_record_write_json(promo_set_record(set, i), &out);
    }
    ep_buf_printf(&out, "\n],\"count\":%zu}\n", active);
    if (status == EP_OK)
        status = cli_print(&out, &ctx->err);
    fprintf(stderr, "edgepromo demo: %zu of %zu promotions active now\n",
            active, set ? promo_set_count(set) : 0);
    promo_set_release(set);
    ep_buf_deinit(&out);
    return status;
}

enum ep_status cli_cmd_demo(struct cli_context *ctx)
{
    struct demo_options options;
    struct store *store = NULL;
    enum ep_status status = parse_demo(ctx, &options);

    if (status == EP_OK)
        status = ep_config_require(&ctx->config, "company_id", &ctx->err);
    if (status == EP_OK)
        status = ep_config_require(&ctx->config, "store_id", &ctx->err);
    if (status == EP_OK)
        status = cli_store_open(ctx, &store);
    if (status == EP_OK)
        status = load_example(ctx, store, options.from);
    if (status == EP_OK && !options.serve)
        status = print_active(ctx, store);
    store_close(store);
    if (status != EP_OK || !options.serve)
        return status;
    fprintf(stderr,
            "edgepromo demo: serving the POS API on http://%s (token: see "
            "api_tokens in the config); Ctrl-C stops\n",
            ctx->config.listen);
    return api_serve(&ctx->config, NULL, &ctx->err);
}
