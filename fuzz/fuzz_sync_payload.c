/*
 * fuzz_sync_payload.c - libFuzzer target: the sync body parser (the
 * in-place JSON scanner of src/sync/scan.c, payload.c and promotion.c),
 * then what a sync does with the records: validate each with the engine's
 * compiler and build a snapshot of them.
 *
 * Input: a CMS body. It is parsed twice, as a full body for the example
 * store and as an incremental body, each from its own copy (the parser
 * writes into its text). Checked:
 *   - jansson is the second opinion on syntax: when jansson finds the text
 *     broken (bad syntax, bad UTF-8, a NUL), the scanner must refuse it;
 *     when the scanner says "not valid JSON", jansson must agree, unless
 *     the scanner's nesting limit (64) was what it hit;
 *   - a failure is EP_ERR_INVALID with a message (EP_ERR_NOMEM only after
 *     a real allocation failure);
 *   - every string handed out is valid UTF-8; rules, scope, targeting and
 *     valid_days, compacted in place, are still JSON of the right type;
 *   - rejections point at real promotions; deleted ids are not empty;
 *   - a promotion the parser did not reject validates or is refused with a
 *     field named, and promo_set_build keeps exactly the ones that
 *     validate.
 *
 *   fuzz_sync_payload fuzz/corpus/fuzz_sync_payload \
 *       -dict=fuzz/fuzz_sync_payload.dict
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/mem.h"
#include "fuzz_support.h"
#include "sync/sync.h"

#define BODY_MAX ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What jansson makes of the raw bytes. */
enum verdict {
    JSON_VALID,  /* jansson reads it */
    JSON_BROKEN, /* bad syntax, bad UTF-8, a NUL */
    JSON_UNKNOWN /* jansson stopped first at a limit of its own */
};

static enum verdict jansson_verdict(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    enum json_error_code code;

    if (root != NULL) {
        json_decref(root);
        /* jansson lets a NUL right after a number pass ({"a":0\0}). */
        return memchr(data, '\0', size) != NULL ? JSON_UNKNOWN : JSON_VALID;
    }
    code = json_error_code(&jerr);
    /*
     * Too deep, a number C cannot hold, a key with a NUL: jansson gives up
     * there, before it has seen the rest, which may or may not be JSON.
     */
    if (code == json_error_stack_overflow ||
        code == json_error_numeric_overflow ||
        code == json_error_null_byte_in_key || code == json_error_out_of_memory)
        return JSON_UNKNOWN;
    return JSON_BROKEN;
}

static void check_json_text(const char *text, bool object, const char *what)
{
    json_error_t jerr;
    json_t *v;

    if (text == NULL)
        return;
    v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (v == NULL && (json_error_code(&jerr) == json_error_numeric_overflow ||
                      json_error_code(&jerr) == json_error_stack_overflow))
        return;
    FUZZ_CHECK(v != NULL, "%s kept as '%s' does not parse: %s", what, text,
               jerr.text);
    FUZZ_CHECK(object ? json_is_object(v) : json_is_array(v), "%s is not an %s",
               what, object ? "object" : "array");
    json_decref(v);
}

static void check_record_text(const struct promo_record *r)
{
    const char *const texts[] = { r->id,         r->code,
                                  r->name,       r->description,
                                  r->company_id, r->brand_id,
                                  r->store_id,   r->promo_type,
                                  r->apply_to,   r->execution_stage,
                                  r->start_date, r->end_date,
                                  r->time_start, r->time_end,
                                  r->compiled_at };

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        FUZZ_CHECK(texts[i] == NULL || fuzz_is_utf8(texts[i]),
                   "column %zu is not UTF-8", i);
    check_json_text(r->rules_json, true, "rules");
    check_json_text(r->scope_json, true, "scope");
    check_json_text(r->targeting_json, true, "targeting");
    check_json_text(r->valid_days_json, false, "valid_days");
}

static bool is_rejected(const struct sync_payload *p, size_t index)
{
    for (size_t i = 0; i < p->rejection_count; i++) {
        if (p->rejections[i].index == index)
            return true;
    }
    return false;
}

/* What sync_prepare does to each record, and the snapshot after it. */
static void check_promotions(const struct sync_payload *p)
{
    struct engine_settings settings = { FUZZ_COMPANY_ID, FUZZ_STORE_ID };
    struct promo_record *valid =
        ep_calloc(p->promotion_count + 1, sizeof(*valid));
    struct promo_set *set = NULL;
    size_t count = 0;
    struct ep_error err;

    FUZZ_CHECK(valid != NULL, "out of memory");
    for (size_t i = 0; i < p->promotion_count; i++) {
        if (is_rejected(p, i))
            continue;
        check_record_text(&p->promotions[i]);
        ep_error_clear(&err);
        ep_mem_failure_reset();
        if (engine_promotion_validate(&p->promotions[i], &err) == EP_OK) {
            valid[count++] = p->promotions[i];
            continue;
        }
        fuzz_check_failure(err.status, &err);
        FUZZ_CHECK(err.status == EP_ERR_NOMEM || err.field[0] != '\0',
                   "promotion refused without a field: %s", err.message);
    }
    ep_error_clear(&err);
    FUZZ_CHECK(promo_set_build(valid, count, p->holidays, p->holiday_count,
                               &settings, NULL, NULL, &set, &err) == EP_OK,
               "build: %s", err.message);
    FUZZ_CHECK(promo_set_count(set) == count, "built %zu of %zu valid",
               promo_set_count(set), count);
    promo_set_release(set);
    ep_free(valid);
}

static void check_payload(const struct sync_payload *p)
{
    for (size_t i = 0; i < p->rejection_count; i++) {
        const struct sync_rejection *r = &p->rejections[i];
        FUZZ_CHECK(r->index == SIZE_MAX || r->index < p->promotion_count,
                   "rejection %zu points at %zu", i, r->index);
        FUZZ_CHECK(r->reason != NULL && r->reason[0] != '\0',
                   "rejection %zu without a reason", i);
    }
    for (size_t i = 0; i < p->deleted_count; i++)
        FUZZ_CHECK(p->deleted_ids[i][0] != '\0' &&
                       fuzz_is_utf8(p->deleted_ids[i]),
                   "deleted id %zu", i);
    for (size_t i = 0; i < p->holiday_count; i++)
        FUZZ_CHECK(p->holidays[i].date != NULL, "holiday %zu", i);
    FUZZ_CHECK(p->sync_token == NULL || fuzz_is_utf8(p->sync_token),
               "sync_token");
    check_promotions(p);
}

/* Parses one copy of the body; returns whether it was accepted. */
static bool parse(const uint8_t *data, size_t size, bool full,
                  bool *syntax_error)
{
    struct ep_arena arena;
    struct sync_payload payload;
    struct ep_error err = { 0 };
    char *text = ep_malloc(size + 1);
    enum ep_status status;

    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    ep_arena_init(&arena, 1 << 14, (size_t)1 << 30);
    ep_mem_failure_reset();
    status = full ? sync_payload_parse_full(text, size, FUZZ_STORE_ID, &arena,
                                            &payload, &err)
                  : sync_payload_parse_incremental(text, size, &arena, &payload,
                                                   &err);
    if (status == EP_OK) {
        check_payload(&payload);
    } else {
        fuzz_check_failure(status, &err);
        *syntax_error = strstr(err.message, "not valid JSON") != NULL &&
                        strstr(err.message, "nesting too deep") == NULL;
    }
    ep_arena_deinit(&arena);
    ep_free(text);
    return status == EP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum verdict verdict;
    bool syntax_full = false;
    bool syntax_incremental = false;
    bool full_ok;
    bool incremental_ok;

    if (size > BODY_MAX)
        return 0;
    fuzz_init();
    verdict = jansson_verdict(data, size);
    full_ok = parse(data, size, true, &syntax_full);
    incremental_ok = parse(data, size, false, &syntax_incremental);
    FUZZ_CHECK(verdict != JSON_BROKEN || (!full_ok && !incremental_ok),
               "jansson refuses the text, the scanner accepts it");
    FUZZ_CHECK(verdict != JSON_VALID || (!syntax_full && !syntax_incremental),
               "the scanner calls valid JSON invalid");
    return 0;
}
