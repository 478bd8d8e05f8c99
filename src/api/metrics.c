/*
 * metrics.c - the server's counters and their Prometheus text form.
 *
 * Requests are counted by route row (the pattern, never the raw path, so
 * the label set stays small) and HTTP status; durations go into a
 * histogram per route with fixed bucket bounds. Every counter is a relaxed
 * atomic: the hot path takes no lock, and a scrape may see one counter a
 * request ahead of another, which Prometheus tolerates. Bucket counts are
 * kept per bucket and summed into Prometheus's cumulative form when
 * written. The gauges that need the database or the snapshot (sync runs,
 * active promotions) are written by the /metrics handler (health.c).
 */
#include <assert.h>

#include "api/internal.h"

static const unsigned metric_statuses[API_METRIC_STATUS_COUNT - 1] = {
#define API_STATUS_VALUE(code) code,
    API_METRIC_STATUSES(API_STATUS_VALUE)
#undef API_STATUS_VALUE
};

static const uint64_t bucket_bounds_us[API_METRIC_BUCKET_COUNT - 1] = {
#define API_BUCKET_VALUE(us) us,
    API_METRIC_BUCKETS(API_BUCKET_VALUE)
#undef API_BUCKET_VALUE
};

#define STATUS_OTHER (API_METRIC_STATUS_COUNT - 1)
#define BUCKET_INF   (API_METRIC_BUCKET_COUNT - 1)

static size_t status_index(unsigned http_status)
{
    for (size_t i = 0; i < STATUS_OTHER; i++) {
        if (metric_statuses[i] == http_status)
            return i;
    }
    return STATUS_OTHER;
}

static size_t bucket_index(uint64_t duration_us)
{
    for (size_t i = 0; i < BUCKET_INF; i++) {
        if (duration_us <= bucket_bounds_us[i])
            return i;
    }
    return BUCKET_INF;
}

void api_metrics_add(atomic_uint_fast64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

void api_metrics_record(struct api_metrics *metrics, enum api_route_id route,
                        unsigned http_status, uint64_t duration_us)
{
    assert(route < API_ROUTE_COUNT);
    api_metrics_add(&metrics->requests[route][status_index(http_status)]);
    api_metrics_add(&metrics->buckets[route][bucket_index(duration_us)]);
    atomic_fetch_add_explicit(&metrics->latency_us[route], duration_us,
                              memory_order_relaxed);
}

static uint64_t load(atomic_uint_fast64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

static void write_route_labels(struct ep_buf *out, enum api_route_id route)
{
    ep_buf_printf(out, "{method=\"%s\",route=\"%s\"", api_route_method(route),
                  api_route_label(route));
}

static void write_request_counts(struct api_metrics *m, struct ep_buf *out)
{
    ep_buf_puts(out, "# HELP edgepromo_http_requests_total HTTP requests "
                     "answered, by route and status.\n"
                     "# TYPE edgepromo_http_requests_total counter\n");
    for (int r = 0; r < API_ROUTE_COUNT; r++) {
        for (size_t s = 0; s < API_METRIC_STATUS_COUNT; s++) {
            uint64_t n = load(&m->requests[r][s]);
            if (n == 0)
                continue;
            ep_buf_puts(out, "edgepromo_http_requests_total");
            write_route_labels(out, (enum api_route_id)r);
            if (s == STATUS_OTHER)
                ep_buf_printf(out, ",status=\"other\"} %llu\n",
                              (unsigned long long)n);
            else
                ep_buf_printf(out, ",status=\"%u\"} %llu\n", metric_statuses[s],
                              (unsigned long long)n);
        }
    }
}

/* One route's histogram; skipped while the route has seen no request. */
static void write_histogram(struct api_metrics *m, enum api_route_id r,
                            struct ep_buf *out)
{
    uint64_t counts[API_METRIC_BUCKET_COUNT];
    uint64_t total = 0;

    for (size_t b = 0; b < API_METRIC_BUCKET_COUNT; b++) {
        counts[b] = load(&m->buckets[r][b]);
        total += counts[b];
    }
    if (total == 0)
        return;
    total = 0;
    for (size_t b = 0; b < API_METRIC_BUCKET_COUNT; b++) {
        total += counts[b];
        ep_buf_puts(out, "edgepromo_http_request_duration_seconds_bucket");
        write_route_labels(out, r);
        if (b == BUCKET_INF)
            ep_buf_puts(out, ",le=\"+Inf\"}");
        else
            ep_buf_printf(out, ",le=\"%g\"}",
                          (double)bucket_bounds_us[b] / 1e6);
        ep_buf_printf(out, " %llu\n", (unsigned long long)total);
    }
    ep_buf_puts(out, "edgepromo_http_request_duration_seconds_sum");
    write_route_labels(out, r);
    ep_buf_printf(out, "} %.6f\n", (double)load(&m->latency_us[r]) / 1e6);
    ep_buf_puts(out, "edgepromo_http_request_duration_seconds_count");
    write_route_labels(out, r);
    ep_buf_printf(out, "} %llu\n", (unsigned long long)total);
}

void api_metrics_write_requests(struct api_metrics *metrics, struct ep_buf *out)
{
    write_request_counts(metrics, out);
    ep_buf_puts(out, "# HELP edgepromo_http_request_duration_seconds Time "
                     "from a request's headers to its last byte sent.\n"
                     "# TYPE edgepromo_http_request_duration_seconds "
                     "histogram\n");
    for (int r = 0; r < API_ROUTE_COUNT; r++)
        write_histogram(metrics, (enum api_route_id)r, out);
}

static void write_counter(struct ep_buf *out, const char *name,
                          const char *help, uint64_t value)
{
    ep_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help,
                  name, name, (unsigned long long)value);
}

static const char *const commit_outcomes[API_COMMIT_OUTCOME_COUNT] = {
    [API_COMMIT_COMMITTED] = "committed",
    [API_COMMIT_REPLAYED] = "replayed",
    [API_COMMIT_FAILED] = "failed",
};

void api_metrics_write_counters(struct api_metrics *metrics, struct ep_buf *out)
{
    write_counter(out, "edgepromo_evaluations_total",
                  "Carts priced by /v1/cart/evaluate.",
                  load(&metrics->evaluations));
    ep_buf_puts(out, "# HELP edgepromo_commits_total Checkouts by outcome.\n"
                     "# TYPE edgepromo_commits_total counter\n");
    for (size_t i = 0; i < API_COMMIT_OUTCOME_COUNT; i++)
        ep_buf_printf(out, "edgepromo_commits_total{outcome=\"%s\"} %llu\n",
                      commit_outcomes[i],
                      (unsigned long long)load(&metrics->commits[i]));
    write_counter(out, "edgepromo_voids_total", "Voids answered 200.",
                  load(&metrics->voids));
    write_counter(out, "edgepromo_snapshot_reloads_total",
                  "Promotion snapshots adopted after a data change.",
                  load(&metrics->reloads));
    write_counter(out, "edgepromo_snapshot_reload_failures_total",
                  "Promotion snapshot loads that failed.",
                  load(&metrics->reload_failures));
}
