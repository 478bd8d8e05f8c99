/*
 * sync_routes.c - the sync routes: POST /v1/sync (ask the scheduler for a
 * run now: 202, the run happens on the scheduler's thread, never on a
 * worker the terminals need; its outcome is GET /v1/sync/last), GET
 * /v1/sync/last (the newest sync log row and the sync state) and GET
 * /v1/sync/stats?days=N (totals of the sync log).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "sync/sync.h"

#define STATS_DAYS_DEFAULT 7
#define STATS_DAYS_MAX     3650

/* Reads the sync type of {"type":"full"|"incremental"}: "type" absent is
 * incremental. */
static enum ep_status read_sync_type(struct api_call *call, const json_t *root,
                                     bool *full)
{
    const json_t *type = json_object_get(root, "type");
    const char *text = json_string_value(type);

    if (!json_is_object(root))
        return ep_error_set(&call->err, EP_ERR_INVALID, NULL,
                            "the body must be a JSON object");
    if (type == NULL)
        return EP_OK;
    if (text != NULL && strcmp(text, "full") == 0)
        *full = true;
    else if (text == NULL || strcmp(text, "incremental") != 0)
        return ep_error_set(&call->err, EP_ERR_INVALID, "type",
                            "type: expected \"full\" or \"incremental\"");
    return EP_OK;
}

/* Reads the body of POST /v1/sync; an empty body is incremental. */
static enum ep_status parse_sync_body(struct api_call *call, bool *full)
{
    const struct api_request *req = call->request;
    json_error_t jerr;
    json_t *root = NULL;
    enum ep_status status;

    *full = false;
    if (req->body_len == 0)
        return EP_OK;
    root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL && api_json_out_of_memory(&jerr))
        return ep_error_set(&call->err, EP_ERR_NOMEM, NULL, "out of memory");
    if (root == NULL) {
        call->error_kind = API_ERR_INVALID_JSON;
        return ep_error_set(&call->err, EP_ERR_INVALID, NULL,
                            "not valid JSON: %s", jerr.text);
    }
    status = read_sync_type(call, root, full);
    json_decref(root);
    return status;
}

enum ep_status api_handle_sync_trigger(struct api_call *call)
{
    bool full = false;
    enum ep_status status = parse_sync_body(call, &full);

    if (status != EP_OK)
        return status;
    if (call->server->scheduler == NULL)
        return ep_error_set(&call->err, EP_ERR_UNAVAILABLE, NULL,
                            "no CMS is configured (cms_url): use "
                            "`edgepromo sync --from FILE`");
    sync_scheduler_trigger(call->server->scheduler,
                           full ? SYNC_FULL : SYNC_INCREMENTAL);
    call->http_status = 202;
    ep_buf_printf(call->out,
                  "{\"accepted\":true,\"type\":\"%s\",\"status_url\":"
                  "\"/v1/sync/last\"}\n",
                  full ? "full" : "incremental");
    return EP_OK;
}

/* Writes JSON text as it is when it parses, else as a string. */
static void write_json_text(struct ep_buf *out, const char *text)
{
    json_t *parsed = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

    if (parsed != NULL)
        ep_buf_puts(out, text);
    else
        ep_buf_json_string(out, text);
    json_decref(parsed);
}

static void write_log_row(const struct store_sync_log *row, struct ep_buf *out)
{
    ep_buf_printf(out, "{\"id\":%lld", (long long)row->id);
    api_json_member_string(out, "sync_type", row->sync_type);
    api_json_member_string(out, "sync_status", row->sync_status);
    ep_buf_printf(out,
                  ",\"promotions_received\":%lld,\"promotions_added\":"
                  "%lld,\"promotions_updated\":%lld,\"promotions_deleted\":"
                  "%lld,\"promotions_skipped\":%lld",
                  (long long)row->received, (long long)row->added,
                  (long long)row->updated, (long long)row->deleted,
                  (long long)row->skipped);
    api_json_member_string(out, "error_message", row->error_message);
    ep_buf_puts(out, ",\"error_details\":");
    write_json_text(out, row->error_details);
    api_json_member_string(out, "started_at", row->started_at);
    api_json_member_string(out, "completed_at", row->completed_at);
    ep_buf_printf(out, ",\"duration_seconds\":%lld,\"duration_ms\":%lld",
                  (long long)row->duration_seconds,
                  (long long)row->duration_ms);
    api_json_member_string(out, "cms_version", row->cms_version);
    api_json_member_string(out, "edge_version", row->edge_version);
    ep_buf_putc(out, '}');
}

static void write_state(const struct store_sync_state *state,
                        struct ep_buf *out)
{
    ep_buf_puts(out, "{\"cursor\":");
    ep_buf_json_string(out, state->cursor);
    api_json_member_string(out, "server_time", state->server_time);
    api_json_member_string(out, "last_success_at", state->last_success_at);
    ep_buf_printf(out, ",\"data_version\":%lld}",
                  (long long)state->data_version);
}

/* Reads this store's sync state into the call's arena. */
static enum ep_status read_state(struct api_call *call, struct store *store,
                                 struct store_sync_state *state)
{
    const struct ep_config *config = call->server->config;

    return store_sync_state_get(store, config->company_id, config->store_id,
                                call->arena, state, &call->err);
}

enum ep_status api_handle_sync_last(struct api_call *call)
{
    struct store_sync_log *rows = NULL;
    struct store_sync_state state;
    struct store *store = NULL;
    size_t count = 0;
    enum ep_status status = api_call_store(call, &store);

    if (status == EP_OK)
        status = store_sync_log_recent(store, call->server->config->store_id, 1,
                                       call->arena, &rows, &count, &call->err);
    if (status == EP_OK)
        status = read_state(call, store, &state);
    if (status == EP_OK && count == 0)
        status = ep_error_set(&call->err, EP_ERR_NOT_FOUND, NULL,
                              "no sync has run for this store yet");
    if (status != EP_OK)
        return status;
    ep_buf_puts(call->out, "{\"last\":");
    write_log_row(&rows[0], call->out);
    ep_buf_puts(call->out, ",\"state\":");
    write_state(&state, call->out);
    ep_buf_puts(call->out, "}\n");
    return EP_OK;
}

/* Reads ?days= (1..3650, default 7). */
static enum ep_status query_days(struct api_call *call, int *days)
{
    const char *text = api_call_query(call, "days");
    char *end = NULL;
    long value;

    *days = STATS_DAYS_DEFAULT;
    if (text == NULL)
        return EP_OK;
    value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 1 || value > STATS_DAYS_MAX)
        return api_call_bad_query(call, "days",
                                  "a whole number from 1 to "
                                  "3650");
    *days = (int)value;
    return EP_OK;
}

static void write_stats(const struct store_sync_stats *s,
                        const struct store_sync_state *state, int days,
                        struct ep_buf *out)
{
    ep_buf_printf(out,
                  "{\"days\":%d,\"syncs\":{\"total\":%lld,\"successful\":%lld,"
                  "\"partial\":%lld,\"failed\":%lld,\"success_rate\":%.4f,"
                  "\"avg_duration_seconds\":%.3f},\"promotions\":%lld",
                  days, (long long)s->total, (long long)s->successful,
                  (long long)s->partial, (long long)s->failed,
                  s->total > 0 ? (double)s->successful / (double)s->total : 0.0,
                  s->avg_duration_s, (long long)s->promotions);
    api_json_member_string(out, "last_success_at", state->last_success_at);
    api_json_member_string(out, "cursor", state->cursor);
    ep_buf_puts(out, "}\n");
}

enum ep_status api_handle_sync_stats(struct api_call *call)
{
    struct store_sync_stats stats;
    struct store_sync_state state;
    struct store *store = NULL;
    int days = STATS_DAYS_DEFAULT;
    enum ep_status status = query_days(call, &days);

    if (status == EP_OK)
        status = api_call_store(call, &store);
    if (status == EP_OK)
        status = store_sync_stats_get(store, call->server->config->store_id,
                                      days, &stats, &call->err);
    if (status == EP_OK)
        status = read_state(call, store, &state);
    if (status == EP_OK)
        write_stats(&stats, &state, days, call->out);
    return status;
}
