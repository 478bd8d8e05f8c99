/*
 * payload.c - reads the CMS's sync bodies (SPEC.md section 3) into
 * promotion records, deleted ids, holidays and the cursor.
 *
 * Two levels of strictness. The envelope (the body is an object; the
 * store's object is there; promotions, holidays and deleted are arrays;
 * sync_token and server_time strings) must be right, or the whole body is
 * refused and the run changes nothing. Inside it, each promotion is judged
 * on its own: one of the wrong shape is listed in the payload's rejections
 * and the others go on (promotion.c reads them). A holiday with a bad date
 * is rejected the same way; a deleted id that is not a string fails the
 * body, since guessing what to delete is worse than deleting nothing.
 *
 * The text is scanned in place (scan.c): records point into it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/localtime.h"
#include "sync/internal.h"

#define PAYLOAD_ARRAY_MAX 1000000 /* most promotions, ids or holidays */

static enum ep_status shape_error(struct json_scan *s, const char *field,
                                  const char *expected)
{
    if (s->failed)
        return EP_ERR_INVALID;
    s->failed = true;
    return ep_error_set(s->err, EP_ERR_INVALID, field,
                        "the body is not in the expected shape: %s: "
                        "expected %s",
                        field, expected);
}

static enum ep_status out_of_memory(struct json_scan *s)
{
    s->failed = true;
    return ep_error_set(s->err, EP_ERR_NOMEM, NULL,
                        "out of memory reading the body");
}

/* Makes room for one more item in an arena array that doubles. */
static bool grow(struct ep_arena *arena, void **items, size_t size,
                 size_t *capacity, size_t count)
{
    size_t wanted = *capacity == 0 ? 64 : *capacity * 2;
    void *bigger;

    if (count < *capacity)
        return true;
    bigger = ep_arena_calloc(arena, wanted, size);
    if (bigger == NULL)
        return false;
    if (count > 0)
        memcpy(bigger, *items, count * size);
    *items = bigger;
    *capacity = wanted;
    return true;
}

enum ep_status sync_payload_reject(struct sync_payload *payload,
                                   struct ep_arena *arena, size_t index,
                                   const char *id, const char *field,
                                   const char *reason)
{
    struct sync_rejection *r;

    if (!grow(arena, (void **)&payload->rejections, sizeof(*r),
              &payload->rejection_capacity, payload->rejection_count))
        return EP_ERR_NOMEM;
    r = &payload->rejections[payload->rejection_count];
    r->index = index;
    r->id = id != NULL ? ep_arena_strdup(arena, id) : NULL;
    r->field = field != NULL && field[0] != '\0' ? ep_arena_strdup(arena, field)
                                                 : NULL;
    r->reason = ep_arena_strdup(arena, reason);
    if (r->reason == NULL || (id != NULL && r->id == NULL))
        return EP_ERR_NOMEM;
    payload->rejection_count++;
    return EP_OK;
}

/* Reads one element of a promotions array into the payload. */
static enum ep_status read_promotion(struct json_scan *s,
                                     struct ep_arena *arena,
                                     struct sync_payload *out, size_t *capacity)
{
    struct ep_error why = { 0 };
    struct promo_record *record;
    size_t index = out->promotion_count;

    if (index >= PAYLOAD_ARRAY_MAX)
        return shape_error(s, "promotions", "at most 1000000 promotions");
    if (!grow(arena, (void **)&out->promotions, sizeof(*record), capacity,
              index))
        return out_of_memory(s);
    record = &out->promotions[index];
    if (sync_promotion_scan(s, arena, record, &why) != EP_OK)
        return EP_ERR_INVALID;
    out->promotion_count++;
    if (ep_error_is_set(&why) &&
        sync_payload_reject(out, arena, index, record->id, why.field,
                            why.message) != EP_OK)
        return out_of_memory(s);
    return EP_OK;
}

static enum ep_status read_promotions(struct json_scan *s, const char *field,
                                      struct ep_arena *arena,
                                      struct sync_payload *out)
{
    size_t capacity = 0;
    bool first = true;
    bool more = true;

    if (json_scan_peek(s) != JSON_KIND_ARRAY)
        return shape_error(s, field, "an array of promotions");
    if (json_scan_array(s) != EP_OK)
        return EP_ERR_INVALID;
    while (json_scan_element(s, &first, &more) == EP_OK && more) {
        if (read_promotion(s, arena, out, &capacity) != EP_OK)
            break;
    }
    return s->failed ? EP_ERR_INVALID : EP_OK;
}

/* Reads an optional string member (sync_token, server_time). */
static enum ep_status read_optional_text(struct json_scan *s, const char *field,
                                         const char **out)
{
    enum json_kind kind = json_scan_peek(s);
    char *text = NULL;

    if (kind == JSON_KIND_NULL)
        return json_scan_literal(s, kind);
    if (kind != JSON_KIND_STRING)
        return shape_error(s, field, "a string or null");
    if (json_scan_string(s, &text, NULL) != EP_OK)
        return EP_ERR_INVALID;
    *out = text;
    return EP_OK;
}

/* Checks one holiday; a bad one becomes a rejection. */
static enum ep_status keep_holiday(struct ep_arena *arena,
                                   struct sync_payload *out, size_t index,
                                   const struct holiday_record *h)
{
    char field[48];
    int32_t day = 0;

    if (h->date != NULL && ep_date_parse(h->date, &day) == EP_OK) {
        out->holidays[out->holiday_count++] = *h;
        return EP_OK;
    }
    snprintf(field, sizeof(field), "holidays[%zu].date", index);
    return sync_payload_reject(out, arena, SIZE_MAX, NULL, field,
                               "date: expected a date YYYY-MM-DD");
}

/* Reads the members of one holiday object. */
static enum ep_status read_holiday(struct json_scan *s,
                                   struct holiday_record *h)
{
    bool first = true;
    bool more = true;
    char *key = NULL;

    memset(h, 0, sizeof(*h));
    if (json_scan_peek(s) != JSON_KIND_OBJECT)
        return json_scan_skip(s);
    if (json_scan_object(s) != EP_OK)
        return EP_ERR_INVALID;
    while (json_scan_member(s, &first, &more, &key) == EP_OK && more) {
        bool is_date = strcmp(key, "date") == 0;
        bool is_name = strcmp(key, "name") == 0;
        if ((is_date || is_name) && json_scan_peek(s) == JSON_KIND_STRING) {
            if (json_scan_string(
                    s, is_date ? (char **)&h->date : (char **)&h->name, NULL) !=
                EP_OK)
                break;
        } else if (json_scan_skip(s) != EP_OK) {
            break;
        }
    }
    return s->failed ? EP_ERR_INVALID : EP_OK;
}

static enum ep_status read_holidays(struct json_scan *s, struct ep_arena *arena,
                                    struct sync_payload *out)
{
    size_t capacity = 0;
    size_t index = 0;
    bool first = true;
    bool more = true;
    struct holiday_record h;

    if (json_scan_peek(s) == JSON_KIND_NULL)
        return json_scan_literal(s, JSON_KIND_NULL);
    if (json_scan_peek(s) != JSON_KIND_ARRAY)
        return shape_error(s, "holidays", "an array of {date, name}");
    out->has_holidays = true;
    if (json_scan_array(s) != EP_OK)
        return EP_ERR_INVALID;
    while (json_scan_element(s, &first, &more) == EP_OK && more) {
        if (index >= PAYLOAD_ARRAY_MAX)
            return shape_error(s, "holidays", "at most 1000000 days");
        if (read_holiday(s, &h) != EP_OK)
            break;
        if (!grow(arena, (void **)&out->holidays, sizeof(h), &capacity,
                  out->holiday_count) ||
            keep_holiday(arena, out, index++, &h) != EP_OK)
            return out_of_memory(s);
    }
    return s->failed ? EP_ERR_INVALID : EP_OK;
}

/* Reads the store's object of a full body. */
static enum ep_status read_store(struct json_scan *s, const char *store_id,
                                 struct ep_arena *arena,
                                 struct sync_payload *out)
{
    bool first = true;
    bool more = true;
    bool has_promotions = false;
    char *key = NULL;

    if (json_scan_peek(s) != JSON_KIND_OBJECT)
        return shape_error(s, store_id, "an object");
    if (json_scan_object(s) != EP_OK)
        return EP_ERR_INVALID;
    while (json_scan_member(s, &first, &more, &key) == EP_OK && more) {
        enum ep_status status;
        if (strcmp(key, "promotions") == 0 && !has_promotions) {
            has_promotions = true;
            status = read_promotions(s, "promotions", arena, out);
        } else if (strcmp(key, "holidays") == 0 && !out->has_holidays) {
            status = read_holidays(s, arena, out);
        } else if (strcmp(key, "sync_token") == 0) {
            status = read_optional_text(s, "sync_token", &out->sync_token);
        } else if (strcmp(key, "server_time") == 0) {
            status = read_optional_text(s, "server_time", &out->server_time);
        } else {
            status = json_scan_skip(s);
        }
        if (status != EP_OK)
            break;
    }
    if (!s->failed && !has_promotions)
        return shape_error(s, "promotions", "an array of promotions");
    return s->failed ? EP_ERR_INVALID : EP_OK;
}

/* Starts a body: it must be an object. */
static enum ep_status open_body(struct json_scan *s)
{
    enum json_kind kind = json_scan_peek(s);

    if (kind == JSON_KIND_OBJECT)
        return json_scan_object(s);
    if (kind == JSON_KIND_BAD)
        return json_scan_fail(s, s->p >= s->end ? "empty text"
                                                : "expected a value");
    json_scan_skip(s);
    if (s->failed)
        return EP_ERR_INVALID;
    return shape_error(s, "body", "a JSON object");
}

enum ep_status sync_payload_parse_full(char *text, size_t length,
                                       const char *store_id,
                                       struct ep_arena *arena,
                                       struct sync_payload *out,
                                       struct ep_error *err)
{
    struct json_scan s;
    bool first = true;
    bool more = true;
    bool found = false;
    char *key = NULL;

    memset(out, 0, sizeof(*out));
    json_scan_init(&s, text, length, err);
    if (open_body(&s) != EP_OK)
        return err != NULL ? err->status : EP_ERR_INVALID;
    while (json_scan_member(&s, &first, &more, &key) == EP_OK && more) {
        bool ours = !found && strcmp(key, store_id) == 0;
        found = found || ours;
        if ((ours ? read_store(&s, store_id, arena, out)
                  : json_scan_skip(&s)) != EP_OK)
            break;
    }
    if (json_scan_finish(&s) == EP_OK && !found)
        ep_error_set(err, EP_ERR_INVALID, store_id,
                     "the body is not in the expected shape: it has no "
                     "object for store %s",
                     store_id);
    if (s.failed || !found)
        return err != NULL && err->status != EP_OK ? err->status
                                                   : EP_ERR_INVALID;
    return EP_OK;
}

/* Reads the "deleted" array of ids. */
static enum ep_status read_deleted(struct json_scan *s, struct ep_arena *arena,
                                   struct sync_payload *out)
{
    size_t capacity = 0;
    bool first = true;
    bool more = true;
    char *id = NULL;
    size_t length = 0;

    if (json_scan_peek(s) == JSON_KIND_NULL)
        return json_scan_literal(s, JSON_KIND_NULL);
    if (json_scan_peek(s) != JSON_KIND_ARRAY)
        return shape_error(s, "deleted", "an array of promotion ids");
    if (json_scan_array(s) != EP_OK)
        return EP_ERR_INVALID;
    while (json_scan_element(s, &first, &more) == EP_OK && more) {
        if (json_scan_peek(s) != JSON_KIND_STRING ||
            out->deleted_count >= PAYLOAD_ARRAY_MAX)
            return shape_error(s, "deleted", "an array of promotion ids");
        if (json_scan_string(s, &id, &length) != EP_OK)
            break;
        if (length == 0)
            return shape_error(s, "deleted", "non-empty promotion ids");
        if (!grow(arena, (void **)&out->deleted_ids, sizeof(id), &capacity,
                  out->deleted_count))
            return out_of_memory(s);
        out->deleted_ids[out->deleted_count++] = id;
    }
    return s->failed ? EP_ERR_INVALID : EP_OK;
}

static enum ep_status read_incremental_member(struct json_scan *s,
                                              const char *key,
                                              struct ep_arena *arena,
                                              struct sync_payload *out)
{
    if (strcmp(key, "updated") == 0) {
        if (json_scan_peek(s) == JSON_KIND_NULL)
            return json_scan_literal(s, JSON_KIND_NULL);
        return read_promotions(s, "updated", arena, out);
    }
    if (strcmp(key, "deleted") == 0)
        return read_deleted(s, arena, out);
    if (strcmp(key, "sync_token") == 0)
        return read_optional_text(s, "sync_token", &out->sync_token);
    if (strcmp(key, "server_time") == 0)
        return read_optional_text(s, "server_time", &out->server_time);
    return json_scan_skip(s);
}

enum ep_status sync_payload_parse_incremental(char *text, size_t length,
                                              struct ep_arena *arena,
                                              struct sync_payload *out,
                                              struct ep_error *err)
{
    struct json_scan s;
    bool first = true;
    bool more = true;
    bool seen_updated = false;
    bool seen_deleted = false;
    char *key = NULL;

    memset(out, 0, sizeof(*out));
    json_scan_init(&s, text, length, err);
    if (open_body(&s) != EP_OK)
        return err != NULL ? err->status : EP_ERR_INVALID;
    while (json_scan_member(&s, &first, &more, &key) == EP_OK && more) {
        bool *seen = strcmp(key, "updated") == 0   ? &seen_updated
                     : strcmp(key, "deleted") == 0 ? &seen_deleted
                                                   : NULL;
        if (seen != NULL && *seen) {
            shape_error(&s, key, "one array, not two");
            break;
        }
        if (seen != NULL)
            *seen = true;
        if (read_incremental_member(&s, key, arena, out) != EP_OK)
            break;
    }
    if (json_scan_finish(&s) != EP_OK)
        return err != NULL && err->status != EP_OK ? err->status
                                                   : EP_ERR_INVALID;
    return EP_OK;
}
