/*
 * cmd_sync.c - `edgepromo sync [--full|--incremental] [--from FILE]`: one
 * sync run, its report as JSON on stdout.
 *
 * Without a flag the run is incremental (it falls back to full when no
 * cursor is saved or the CMS answers 410). --from FILE imports a full-sync
 * body from a file, the offline path, logged as "manual". A partial run
 * exits 0; a failed one 1 (the CMS is down, the database is busy) or 2 (a
 * bad file or configuration), per SPEC.md section 7.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "store/store.h"
#include "sync/sync.h"

struct sync_args {
    enum sync_kind kind; /* full or incremental */
    bool kind_given;     /* --full or --incremental was given */
    const char *from;    /* --from FILE, or NULL */
};

static enum ep_status parse_args(struct cli_context *ctx,
                                 struct sync_args *args)
{
    static const struct option options[] = {
        { "full", no_argument, NULL, 'f' },
        { "incremental", no_argument, NULL, 'i' },
        { "from", required_argument, NULL, 'F' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    args->kind = SYNC_INCREMENTAL;
    while ((opt = getopt_long(ctx->argc, ctx->argv, "", options, NULL)) != -1) {
        if ((opt == 'f' || opt == 'i') && args->kind_given)
            return cli_usage_error(ctx, "--full and --incremental exclude "
                                        "each other");
        if (opt == 'f' || opt == 'i') {
            args->kind = opt == 'f' ? SYNC_FULL : SYNC_INCREMENTAL;
            args->kind_given = true;
        } else if (opt == 'F') {
            args->from = optarg;
        } else {
            return cli_usage_error(ctx, "unknown option");
        }
    }
    if (optind < ctx->argc)
        return cli_usage_error(ctx, "unexpected argument");
    if (args->from != NULL && args->kind_given && args->kind != SYNC_FULL)
        return cli_usage_error(ctx, "--from takes a full-sync body");
    return EP_OK;
}

/* No CMS configured and no file: nothing to sync from. */
static enum ep_status require_source(struct cli_context *ctx,
                                     const struct sync_args *args)
{
    if (args->from != NULL || ctx->config.cms_url != NULL)
        return EP_OK;
    return ep_error_set(&ctx->err, EP_ERR_CONFIG, "cms_url",
                        "cms_url is not set: no network sync (set it, or "
                        "import a body with --from FILE)");
}

enum ep_status cli_cmd_sync(struct cli_context *ctx)
{
    struct sync_args args = { SYNC_INCREMENTAL, false, NULL };
    struct sync_report report = { 0 };
    struct store *store = NULL;
    struct ep_buf out;
    enum ep_status status;
    enum ep_status printed;

    status = parse_args(ctx, &args);
    if (status == EP_OK)
        status = require_source(ctx, &args);
    if (status == EP_OK)
        status = cli_store_open(ctx, &store);
    if (status != EP_OK)
        return status;
    status = args.from != NULL
                 ? sync_import_file(store, &ctx->config, args.from, NULL,
                                    &report, &ctx->err)
                 : sync_run(store, &ctx->config, args.kind, NULL, &report,
                            &ctx->err);
    ep_buf_init(&out, 8 << 20);
    sync_report_write_json(&report, &out);
    printed = cli_print(&out, status == EP_OK ? &ctx->err : NULL);
    ep_buf_deinit(&out);
    sync_report_deinit(&report);
    store_close(store);
    return status != EP_OK ? status : printed;
}
