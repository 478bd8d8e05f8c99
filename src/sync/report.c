/*
 * report.c - the names of kinds and outcomes, a run's report as JSON, and
 * the error_details list of the sync log.
 */
#include <string.h>

#include "common/mem.h"
#include "sync/internal.h"

#define DETAILS_MAX_BYTES ((size_t)4 << 20)

const char *sync_kind_name(enum sync_kind kind)
{
    switch (kind) {
    case SYNC_FULL:
        return "full";
    case SYNC_INCREMENTAL:
        return "incremental";
    default:
        return "manual";
    }
}

const char *sync_outcome_name(enum sync_outcome outcome)
{
    switch (outcome) {
    case SYNC_SUCCESS:
        return "success";
    case SYNC_PARTIAL:
        return "partial";
    default:
        return "failed";
    }
}

void sync_report_deinit(struct sync_report *report)
{
    if (report == NULL)
        return;
    ep_free(report->error_details);
    report->error_details = NULL;
}

/* Writes s, or null when s is empty. */
static void json_text_or_null(struct ep_buf *out, const char *s)
{
    ep_buf_json_string(out, s != NULL && s[0] != '\0' ? s : NULL);
}

void sync_report_write_json(const struct sync_report *r, struct ep_buf *out)
{
    ep_buf_puts(out, "{\"type\": ");
    ep_buf_json_string(out, sync_kind_name(r->kind));
    ep_buf_puts(out, ", \"requested\": ");
    ep_buf_json_string(out, sync_kind_name(r->requested));
    ep_buf_puts(out, ", \"status\": ");
    ep_buf_json_string(out, sync_outcome_name(r->outcome));
    ep_buf_printf(out,
                  ", \"received\": %lld, \"added\": %lld, \"updated\": %lld, "
                  "\"deleted\": %lld, \"skipped\": %lld, "
                  "\"duration_ms\": %lld, \"http_status\": %ld",
                  (long long)r->received, (long long)r->added,
                  (long long)r->updated, (long long)r->deleted,
                  (long long)r->skipped, (long long)r->duration_ms,
                  r->http_status);
    ep_buf_puts(out, ", \"started_at\": ");
    json_text_or_null(out, r->started_at);
    ep_buf_puts(out, ", \"cms_version\": ");
    json_text_or_null(out, r->cms_version);
    ep_buf_puts(out, ", \"fallback\": ");
    json_text_or_null(out, r->fallback);
    ep_buf_puts(out, ", \"error\": ");
    json_text_or_null(out, r->message);
    ep_buf_puts(out, ", \"error_details\": ");
    ep_buf_puts(out, r->error_details != NULL ? r->error_details : "[]");
    ep_buf_puts(out, "}\n");
}

enum ep_status sync_details_json(const struct sync_payload *payload,
                                 size_t limit, char **out)
{
    struct ep_buf buf;
    size_t n =
        payload->rejection_count < limit ? payload->rejection_count : limit;

    *out = NULL;
    if (payload->rejection_count == 0)
        return EP_OK;
    ep_buf_init(&buf, DETAILS_MAX_BYTES);
    ep_buf_putc(&buf, '[');
    for (size_t i = 0; i < n; i++) {
        const struct sync_rejection *r = &payload->rejections[i];
        ep_buf_puts(&buf, i == 0 ? "{\"id\": " : ", {\"id\": ");
        ep_buf_json_string(&buf, r->id);
        ep_buf_puts(&buf, ", \"field\": ");
        ep_buf_json_string(&buf, r->field);
        ep_buf_puts(&buf, ", \"reason\": ");
        ep_buf_json_string(&buf, r->reason);
        ep_buf_putc(&buf, '}');
    }
    ep_buf_putc(&buf, ']');
    if (ep_buf_status(&buf) != EP_OK) {
        ep_buf_deinit(&buf);
        return EP_ERR_NOMEM;
    }
    *out = ep_buf_take(&buf, NULL);
    return EP_OK;
}
