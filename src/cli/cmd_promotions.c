/*
 * cmd_promotions.c - `edgepromo promotions` (the stored promotions, or those
 * in force at a time) and `edgepromo stats` (sync and usage figures).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "common/localtime.h"
#include "engine/engine.h"
#include "store/store.h"
#include "sync/sync.h"

struct promotions_filter {
    bool active;       /* only those in force at at */
    int64_t at;        /* instant judged */
    const char *brand; /* NULL: any brand */
    const char *code;  /* NULL: any code */
};

static enum ep_status parse_filter(struct cli_context *ctx,
                                   struct promotions_filter *f)
{
    static const struct option options[] = {
        { "active", no_argument, NULL, 'a' },
        { "at", required_argument, NULL, 't' },
        { "brand", required_argument, NULL, 'b' },
        { "code", required_argument, NULL, 'c' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    f->at = ep_now();
    while ((opt = getopt_long(ctx->argc, ctx->argv, "", options, NULL)) != -1) {
        if (opt == 'a')
            f->active = true;
        else if (opt == 'b')
            f->brand = optarg;
        else if (opt == 'c')
            f->code = optarg;
        else if (opt == 't' && ep_time_parse_rfc3339(optarg, &f->at) != EP_OK)
            return ep_error_set(&ctx->err, EP_ERR_USAGE, "at",
                                "--at: '%s' is not an RFC 3339 time "
                                "(e.g. 2026-01-30T12:00:00+07:00)",
                                optarg);
        else if (opt != 't')
            return cli_usage_error(ctx, "unknown option");
    }
    if (optind < ctx->argc)
        return cli_usage_error(ctx, "unexpected argument");
    return EP_OK;
}

static bool filter_matches(const struct promo_set *set, size_t i,
                           const struct promotions_filter *f)
{
    const struct promo_record *r = promo_set_record(set, i);

    if (f->code != NULL && strcasecmp(r->code, f->code) != 0)
        return false;
    if (f->brand != NULL && !f->active && strcmp(r->brand_id, f->brand) != 0)
        return false;
    if (f->active && !promo_set_is_active_at(set, i, f->at, f->brand))
        return false;
    return true;
}

static void write_promotions(const struct promo_set *set,
                             const struct promotions_filter *f,
                             struct ep_buf *out)
{
    char at[EP_TIMESTAMP_TEXT_MAX];
    size_t written = 0;

    ep_timestamp_format_rfc3339(f->at, at);
    ep_buf_puts(out, "{\"at\":");
    ep_buf_json_string(out, at);
    ep_buf_puts(out, ",\"promotions\":[");
    for (size_t i = 0; i < promo_set_count(set); i++) {
        if (!filter_matches(set, i, f))
            continue;
        ep_buf_puts(out, written++ == 0 ? "\n" : ",\n");
        promo_record_write_json(promo_set_record(set, i), out);
    }
    ep_buf_printf(out, "\n],\"count\":%zu}\n", written);
}

enum ep_status cli_cmd_promotions(struct cli_context *ctx)
{
    struct promotions_filter filter = { 0 };
    struct store *store = NULL;
    struct promo_set *set = NULL;
    struct ep_buf out;
    enum ep_status status;

    ep_buf_init(&out, (size_t)1 << 30);
    status = parse_filter(ctx, &filter);
    if (status == EP_OK)
        status = cli_store_open(ctx, &store);
    if (status == EP_OK)
        status = sync_snapshot_load(store, &ctx->config, &set, &ctx->err);
    if (status == EP_OK) {
        write_promotions(set, &filter, &out);
        status = cli_print(&out, &ctx->err);
    }
    promo_set_release(set);
    store_close(store);
    ep_buf_deinit(&out);
    return status;
}

static void write_stats(const struct store_sync_stats *s,
                        const struct store_sync_state *state, int days,
                        struct ep_buf *out)
{
    ep_buf_printf(out,
                  "{\"days\":%d,\"syncs\":{\"total\":%lld,\"successful\":%lld,"
                  "\"partial\":%lld,\"failed\":%lld,\"avg_duration_seconds\":"
                  "%.3f},\"promotions\":%lld,\"last_success_at\":",
                  days, (long long)s->total, (long long)s->successful,
                  (long long)s->partial, (long long)s->failed,
                  s->avg_duration_s, (long long)s->promotions);
    ep_buf_json_string(out, state->last_success_at);
    ep_buf_puts(out, ",\"cursor\":");
    ep_buf_json_string(out, state->cursor);
    ep_buf_puts(out, "}\n");
}

static enum ep_status parse_days(struct cli_context *ctx, int *days)
{
    static const struct option options[] = {
        { "days", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    char *end = NULL;
    long value;
    int opt;

    *days = 7;
    while ((opt = getopt_long(ctx->argc, ctx->argv, "", options, NULL)) != -1) {
        if (opt != 'd')
            return cli_usage_error(ctx, "unknown option");
        value = strtol(optarg, &end, 10);
        if (end == optarg || *end != '\0' || value < 1 || value > 3650)
            return ep_error_set(&ctx->err, EP_ERR_USAGE, "days",
                                "--days: '%s' is not valid (expected 1 to "
                                "3650)",
                                optarg);
        *days = (int)value;
    }
    if (optind < ctx->argc)
        return cli_usage_error(ctx, "unexpected argument");
    return EP_OK;
}

enum ep_status cli_cmd_stats(struct cli_context *ctx)
{
    struct store *store = NULL;
    struct store_sync_stats stats = { 0 };
    struct store_sync_state state = { 0 };
    struct ep_arena arena;
    struct ep_buf out;
    int days = 7;
    enum ep_status status;

    ep_arena_init(&arena, 4096, 1 << 20);
    ep_buf_init(&out, 64 * 1024);
    status = parse_days(ctx, &days);
    if (status == EP_OK)
        status = cli_store_open(ctx, &store);
    if (status == EP_OK)
        status = store_sync_stats_get(store, ctx->config.store_id, days, &stats,
                                      &ctx->err);
    if (status == EP_OK)
        status = store_sync_state_get(store, ctx->config.company_id,
                                      ctx->config.store_id, &arena, &state,
                                      &ctx->err);
    if (status == EP_OK) {
        write_stats(&stats, &state, days, &out);
        status = cli_print(&out, &ctx->err);
    }
    store_close(store);
    ep_buf_deinit(&out);
    ep_arena_deinit(&arena);
    return status;
}
