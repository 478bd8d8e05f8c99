/*
 * ready.c - GET /readyz: may this edge take terminals' traffic now?
 *
 * Ready (200) when the database answers and a promotion snapshot is
 * loaded; else 503. /healthz says the same about liveness; /readyz is the
 * one a load balancer or a `systemctl` start check should wait on, and its
 * body carries the age of the last good sync, marked stale past three
 * sync intervals. A stale sync does not make the edge unready: the store
 * keeps selling on the promotions it has while the CMS is away.
 *
 *   {"ready":true,"database":{"up":true,"error":null},
 *    "snapshot":{"loaded":true,"promotions":12,"age_seconds":40},
 *    "last_good_sync":{"at":"2026-11-26T01:10:59+07:00","age_seconds":120,
 *                      "stale":false,"stale_after_seconds":900}}
 */
#include <string.h>

#include "api/internal.h"
#include "common/localtime.h"

/* What /readyz reports. */
struct readiness {
    int64_t now;         /* epoch seconds */
    bool database_up;    /* the database answered */
    bool has_sync;       /* a good sync is recorded */
    int64_t sync_at;     /* its time, epoch seconds */
    bool has_snapshot;   /* a snapshot is loaded */
    size_t promotions;   /* in it */
    int64_t snapshot_at; /* when it was adopted */
};

static void read_database(struct api_call *call, struct readiness *r)
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
    r->database_up = status == EP_OK;
    if (r->database_up)
        r->has_sync = api_utc_text_to_epoch(state.last_success_at, &r->sync_at);
}

static void read_snapshot(struct api_server *server, struct readiness *r)
{
    struct promo_set *set = engine_slot_acquire(server->slot);

    if (set == NULL)
        return;
    r->has_snapshot = true;
    r->promotions = promo_set_count(set);
    r->snapshot_at = atomic_load(&server->snapshot_at);
    promo_set_release(set);
}

static void write_sync(const struct readiness *r, long interval_s,
                       struct ep_buf *out)
{
    char at[EP_TIMESTAMP_TEXT_MAX];
    int64_t stale_after = 3 * (int64_t)interval_s;

    if (!r->has_sync) {
        ep_buf_puts(out, "null");
        return;
    }
    ep_timestamp_format_rfc3339(r->sync_at, at);
    ep_buf_puts(out, "{\"at\":");
    ep_buf_json_string(out, at);
    ep_buf_printf(out,
                  ",\"age_seconds\":%lld,\"stale\":%s,"
                  "\"stale_after_seconds\":%lld}",
                  (long long)(r->now - r->sync_at),
                  r->now - r->sync_at > stale_after ? "true" : "false",
                  (long long)stale_after);
}

enum ep_status api_handle_readyz(struct api_call *call)
{
    struct ep_buf *out = call->out;
    struct readiness r;
    bool ready;

    memset(&r, 0, sizeof(r));
    r.now = ep_now();
    read_database(call, &r);
    read_snapshot(call->server, &r);
    ready = r.database_up && r.has_snapshot;
    call->http_status = ready ? 200 : 503;
    ep_buf_printf(out, "{\"ready\":%s,\"database\":{\"up\":%s,\"error\":",
                  ready ? "true" : "false", r.database_up ? "true" : "false");
    ep_buf_json_string(out, r.database_up ? NULL : call->err.message);
    ep_buf_printf(out,
                  "},\"snapshot\":{\"loaded\":%s,\"promotions\":%zu,"
                  "\"age_seconds\":%lld},\"last_good_sync\":",
                  r.has_snapshot ? "true" : "false", r.promotions,
                  (long long)(r.has_snapshot ? r.now - r.snapshot_at : -1));
    write_sync(&r, call->server->config->sync_interval, out);
    ep_buf_puts(out, "}\n");
    return EP_OK;
}
