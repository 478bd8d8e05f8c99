/*
 * health.c - GET /healthz (is this edge fit to serve?) and GET /metrics
 * (Prometheus text format).
 *
 * /healthz answers 200 when the database answers and a snapshot is
 * loaded, else 503, with the same body either way: the database, the age
 * of the last good sync and the promotions loaded and active now. A stale
 * sync does not make it 503: the store keeps selling on what it has
 * (SPEC.md: it must keep working when the CMS is down); alert on
 * edgepromo_last_sync_success_timestamp_seconds instead.
 */
#include <string.h>

#include "api/internal.h"
#include "common/localtime.h"
#include "sync/sync.h"

#define SYNC_RUNS_DAYS 3650

/* What /healthz and /metrics report beyond the counters. */
struct health {
    bool database_up;             /* the database answered */
    int64_t now;                  /* epoch seconds */
    bool has_last_sync;           /* a good sync is recorded */
    int64_t last_sync_at;         /* its time, epoch seconds */
    bool has_snapshot;            /* a snapshot is loaded */
    size_t promotions;            /* in the snapshot */
    size_t active;                /* in force now, any brand */
    int64_t snapshot_at;          /* when it was adopted */
    struct store_sync_stats runs; /* sync log totals (metrics only) */
};

static void read_snapshot(struct api_server *server, struct health *h)
{
    struct promo_set *set = engine_slot_acquire(server->slot);

    h->snapshot_at = atomic_load(&server->snapshot_at);
    if (set == NULL)
        return;
    h->has_snapshot = true;
    h->promotions = promo_set_count(set);
    for (size_t i = 0; i < h->promotions; i++) {
        if (promo_set_is_active_at(set, i, h->now, NULL))
            h->active++;
    }
    promo_set_release(set);
}

/* Reads the database's part; with_runs also totals the sync log. */
static void read_database(struct api_call *call, struct health *h,
                          bool with_runs)
{
    const struct ep_config *config = call->server->config;
    struct store_sync_state state;
    struct store *store = NULL;
    int64_t version = 0;
    enum ep_status status = api_call_store(call, &store);

    if (status == EP_OK)
        status = store_data_version(store, &version, &call->err);
    if (status == EP_OK)
        status =
            store_sync_state_get(store, config->company_id, config->store_id,
                                 call->arena, &state, &call->err);
    if (status == EP_OK && with_runs)
        status = store_sync_stats_get(store, config->store_id, SYNC_RUNS_DAYS,
                                      &h->runs, &call->err);
    h->database_up = status == EP_OK;
    if (h->database_up)
        h->has_last_sync =
            api_utc_text_to_epoch(state.last_success_at, &h->last_sync_at);
}

static void read_health(struct api_call *call, struct health *h, bool with_runs)
{
    memset(h, 0, sizeof(*h));
    h->now = ep_now();
    read_database(call, h, with_runs);
    read_snapshot(call->server, h);
}

static void write_last_sync(const struct health *h, struct ep_buf *out)
{
    char at[EP_TIMESTAMP_TEXT_MAX];

    if (!h->has_last_sync) {
        ep_buf_puts(out, "null");
        return;
    }
    ep_timestamp_format_rfc3339(h->last_sync_at, at);
    ep_buf_puts(out, "{\"at\":");
    ep_buf_json_string(out, at);
    ep_buf_printf(out, ",\"age_seconds\":%lld}",
                  (long long)(h->now - h->last_sync_at));
}

enum ep_status api_handle_healthz(struct api_call *call)
{
    struct ep_buf *out = call->out;
    struct health h;
    bool ok;

    read_health(call, &h, false);
    ok = h.database_up && h.has_snapshot;
    call->http_status = ok ? 200 : 503;
    ep_buf_printf(out,
                  "{\"status\":\"%s\",\"version\":\"%s\","
                  "\"database\":{\"up\":%s,\"error\":",
                  ok ? "ok" : "unavailable", EP_VERSION,
                  h.database_up ? "true" : "false");
    ep_buf_json_string(out, h.database_up ? NULL : call->err.message);
    ep_buf_puts(out, "},\"last_sync\":");
    write_last_sync(&h, out);
    ep_buf_printf(out,
                  ",\"promotions\":{\"loaded\":%zu,\"active\":%zu,"
                  "\"snapshot_age_seconds\":%lld}}\n",
                  h.promotions, h.active,
                  (long long)(h.has_snapshot ? h.now - h.snapshot_at : -1));
    return EP_OK;
}

static void write_gauge(struct ep_buf *out, const char *name, const char *help,
                        long long value)
{
    ep_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help,
                  name, name, value);
}

static void write_sync_runs(const struct health *h, struct ep_buf *out)
{
    ep_buf_puts(out, "# HELP edgepromo_sync_runs_total Sync runs in the "
                     "sync log, by status.\n"
                     "# TYPE edgepromo_sync_runs_total counter\n");
    ep_buf_printf(out,
                  "edgepromo_sync_runs_total{status=\"success\"} %lld\n"
                  "edgepromo_sync_runs_total{status=\"partial\"} %lld\n"
                  "edgepromo_sync_runs_total{status=\"failed\"} %lld\n",
                  (long long)h->runs.successful, (long long)h->runs.partial,
                  (long long)h->runs.failed);
    if (h->has_last_sync)
        write_gauge(out, "edgepromo_last_sync_success_timestamp_seconds",
                    "When the last good sync ended (Unix time).",
                    (long long)h->last_sync_at);
}

static void write_gauges(struct api_server *server, const struct health *h,
                         struct ep_buf *out)
{
    write_gauge(out, "edgepromo_database_up",
                "1 when the database answered this scrape.",
                h->database_up ? 1 : 0);
    write_gauge(out, "edgepromo_promotions",
                "Promotions in the served snapshot.", (long long)h->promotions);
    write_gauge(out, "edgepromo_active_promotions",
                "Promotions in force now, any brand.", (long long)h->active);
    write_gauge(out, "edgepromo_snapshot_age_seconds",
                "Seconds since the served snapshot was loaded.",
                (long long)(h->has_snapshot ? h->now - h->snapshot_at : -1));
    write_gauge(out, "edgepromo_http_requests_in_flight",
                "Requests begun and not yet completed.",
                (long long)atomic_load(&server->in_flight));
}

/* The scheduler's own view, when `serve` runs one (cms_url set). */
static void write_scheduler(struct api_server *server, struct ep_buf *out)
{
    struct sync_scheduler_stats stats;

    if (server->scheduler == NULL)
        return;
    sync_scheduler_stats_get(server->scheduler, &stats);
    write_gauge(out, "edgepromo_sync_failures_in_row",
                "Consecutive failed sync attempts now (0: healthy).",
                stats.failures_in_row);
    write_gauge(out, "edgepromo_sync_next_run_seconds",
                "Seconds until the scheduler's next planned sync.",
                (long long)(stats.next_in_ms / 1000));
}

enum ep_status api_handle_metrics(struct api_call *call)
{
    struct api_server *server = call->server;
    struct health h;

    read_health(call, &h, true);
    call->content_type = "text/plain; version=0.0.4; charset=utf-8";
    api_metrics_write_requests(&server->metrics, call->out);
    api_metrics_write_counters(&server->metrics, call->out);
    if (h.database_up)
        write_sync_runs(&h, call->out);
    write_gauges(server, &h, call->out);
    write_scheduler(server, call->out);
    return EP_OK;
}
