/*
 * call.c - small helpers handlers share: this thread's database
 * connection, the current snapshot, query errors, timestamps and JSON
 * members.
 */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "common/localtime.h"

enum ep_status api_call_store(struct api_call *call, struct store **out)
{
    return api_worker_store(call->worker, out, &call->err);
}

enum ep_status api_call_snapshot(struct api_call *call, struct promo_set **out)
{
    struct promo_set *set = engine_slot_acquire(call->server->slot);

    if (set == NULL)
        return ep_error_set(&call->err, EP_ERR_UNAVAILABLE, NULL,
                            "no promotion snapshot is loaded yet");
    *out = set;
    return EP_OK;
}

enum ep_status api_call_bad_query(struct api_call *call, const char *key,
                                  const char *expected)
{
    return ep_error_set(&call->err, EP_ERR_INVALID, key, "%s: expected %s", key,
                        expected);
}

bool api_utc_text_to_epoch(const char *text, int64_t *out)
{
    char rfc3339[EP_TIMESTAMP_TEXT_MAX + 2];

    if (text == NULL || strlen(text) != 19 || text[10] != ' ')
        return false;
    snprintf(rfc3339, sizeof(rfc3339), "%.10sT%.8sZ", text, text + 11);
    return ep_time_parse_rfc3339(rfc3339, out) == EP_OK;
}

bool api_json_out_of_memory(const json_error_t *jerr)
{
    return json_error_code(jerr) == json_error_out_of_memory ||
           jerr->text[0] == '\0';
}

void api_json_member_string(struct ep_buf *out, const char *key,
                            const char *text)
{
    ep_buf_printf(out, ",\"%s\":", key);
    ep_buf_json_string(out, text);
}
