/*
 * fuzz_support.c - set-up, invariant checks and example data shared by the
 * fuzz targets (fuzz_support.h).
 */
#include "fuzz_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/money.h"
#include "sync/sync.h"

#ifndef EP_FUZZ_SOURCE_DIR
#error "EP_FUZZ_SOURCE_DIR must name the source tree"
#endif

#define SNAPSHOTS_MAX   4
#define RESULT_JSON_MAX ((size_t)64 << 20)

void fuzz_init(void)
{
    static bool done;

    if (done)
        return;
    done = true;
    ep_mem_install_json_allocator();
    ep_log_set_level(EP_LOG_OFF);
    if (ep_tz_apply(FUZZ_ZONE, NULL) != EP_OK)
        fuzz_fail(__FILE__, __LINE__, "zone", "cannot apply %s", FUZZ_ZONE);
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
               ...)
{
    va_list ap;

    fprintf(stderr, "\n==fuzz invariant broken== %s:%d: %s\n  ", file, line,
            cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

char *fuzz_read_source_file(const char *relative, size_t *length_out)
{
    char path[1024];
    FILE *file;
    char *text;
    long size;

    snprintf(path, sizeof(path), "%s/%s", EP_FUZZ_SOURCE_DIR, relative);
    file = fopen(path, "rb");
    FUZZ_CHECK(file != NULL, "cannot open %s", path);
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    fseek(file, 0, SEEK_SET);
    text = ep_malloc((size_t)size + 1);
    FUZZ_CHECK(text != NULL, "out of memory reading %s", path);
    FUZZ_CHECK(fread(text, 1, (size_t)size, file) == (size_t)size,
               "cannot read %s", path);
    text[size] = '\0';
    fclose(file);
    *length_out = (size_t)size;
    return text;
}

/* A snapshot and the memory it was parsed from; kept for the process. */
struct snapshot_entry {
    const char *relative;
    struct promo_set *set;
};

static struct promo_set *snapshot_build(const char *relative)
{
    struct engine_settings settings = { FUZZ_COMPANY_ID, FUZZ_STORE_ID };
    struct ep_arena arena;
    struct sync_payload payload;
    struct promo_set *set = NULL;
    struct ep_error err = { 0 };
    size_t length = 0;
    char *text = fuzz_read_source_file(relative, &length);

    ep_arena_init(&arena, 1 << 16, (size_t)1 << 28);
    FUZZ_CHECK(sync_payload_parse_full(text, length, FUZZ_STORE_ID, &arena,
                                       &payload, &err) == EP_OK,
               "%s: %s", relative, err.message);
    FUZZ_CHECK(promo_set_build(payload.promotions, payload.promotion_count,
                               payload.holidays, payload.holiday_count,
                               &settings, NULL, NULL, &set, &err) == EP_OK,
               "%s: %s", relative, err.message);
    ep_arena_deinit(&arena);
    ep_free(text);
    return set;
}

const struct promo_set *fuzz_snapshot(const char *relative)
{
    static struct snapshot_entry entries[SNAPSHOTS_MAX];
    size_t i;

    for (i = 0; i < SNAPSHOTS_MAX && entries[i].relative != NULL; i++) {
        if (strcmp(entries[i].relative, relative) == 0)
            return entries[i].set;
    }
    FUZZ_CHECK(i < SNAPSHOTS_MAX, "too many snapshots");
    entries[i].relative = relative;
    entries[i].set = snapshot_build(relative);
    return entries[i].set;
}

/* ---- limits ----------------------------------------------------------- */

static enum ep_status made_up_counts(void *ctx,
                                     const struct promo_record *record,
                                     const char *usage_date,
                                     const char *customer_id,
                                     struct engine_usage_counts *out)
{
    (void)ctx;
    FUZZ_CHECK(usage_date != NULL && strlen(usage_date) == 10,
               "usage_date '%s'", usage_date ? usage_date : "(null)");
    out->total = record->current_uses;
    out->day = (usage_date[9] - '0') % 3;
    out->customer =
        customer_id != NULL ? (int64_t)(strlen(customer_id) % 4) : 0;
    return EP_OK;
}

const struct engine_limits fuzz_limits = { made_up_counts, NULL };

/* ---- results ---------------------------------------------------------- */

static void check_line(const struct eval_result *r, size_t i,
                       const struct cart *cart)
{
    const struct eval_line *line = &r->lines[i];
    int64_t sum = 0;

    FUZZ_CHECK(line->subtotal ==
                   cart->lines[i].quantity * cart->lines[i].unit_price,
               "line %zu subtotal %lld", i, (long long)line->subtotal);
    FUZZ_CHECK(line->discount >= 0 && line->discount <= line->subtotal,
               "line %zu discount %lld of %lld", i, (long long)line->discount,
               (long long)line->subtotal);
    FUZZ_CHECK(line->total == line->subtotal - line->discount, "line %zu total",
               i);
    for (size_t k = 0; k < line->promotion_count; k++) {
        FUZZ_CHECK(line->promotions[k].amount >= 0, "line %zu amount", i);
        sum += line->promotions[k].amount;
    }
    FUZZ_CHECK(sum == line->discount, "line %zu: parts %lld, discount %lld", i,
               (long long)sum, (long long)line->discount);
}

/* The amount of code over every line. */
static int64_t line_amounts_of(const struct eval_result *r, const char *code)
{
    int64_t sum = 0;

    for (size_t i = 0; i < r->line_count; i++) {
        const struct eval_line *line = &r->lines[i];
        for (size_t k = 0; k < line->promotion_count; k++) {
            if (strcmp(line->promotions[k].code, code) == 0)
                sum += line->promotions[k].amount;
        }
    }
    return sum;
}

static void check_applied(const struct eval_result *r)
{
    int64_t sum = 0;

    for (size_t i = 0; i < r->applied_count; i++) {
        const struct eval_applied *a = &r->applied[i];
        FUZZ_CHECK(a->record != NULL && a->amount > 0,
                   "applied %zu amount %lld", i, (long long)a->amount);
        FUZZ_CHECK(line_amounts_of(r, a->record->code) == a->amount,
                   "applied %s: lines give %lld, amount %lld", a->record->code,
                   (long long)line_amounts_of(r, a->record->code),
                   (long long)a->amount);
        sum += a->amount;
    }
    FUZZ_CHECK(sum == r->discount_total, "applied sum %lld, discount %lld",
               (long long)sum, (long long)r->discount_total);
    for (size_t i = 0; i < r->not_applied_count; i++) {
        const struct eval_not_applied *n = &r->not_applied[i];
        FUZZ_CHECK(n->reason > REASON_APPLIED && n->reason < REASON_COUNT,
                   "reason %d", (int)n->reason);
        FUZZ_CHECK((n->record == NULL) == (n->reason == REASON_UNKNOWN_VOUCHER),
                   "not_applied %zu record vs reason %s", i,
                   engine_reason_name(n->reason));
        FUZZ_CHECK(n->code != NULL && n->detail != NULL,
                   "not_applied %zu without code or detail", i);
    }
}

/* Reads member key of obj as hundredths; aborts if it is not money. */
static int64_t json_money_of(const json_t *obj, const char *key)
{
    int64_t value = 0;

    FUZZ_CHECK(ep_money_from_json(json_object_get(obj, key), key, &value,
                                  NULL) == EP_OK,
               "JSON %s is not an amount", key);
    return value;
}

static void check_result_json(const struct eval_result *r,
                              const struct cart *cart)
{
    struct ep_buf out;
    json_error_t jerr;
    json_t *root;

    ep_buf_init(&out, RESULT_JSON_MAX);
    eval_result_write_json(r, cart, &out);
    FUZZ_CHECK(ep_buf_status(&out) == EP_OK, "result JSON not written");
    root = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES, &jerr);
    FUZZ_CHECK(root != NULL, "result JSON does not parse: %s\n%.*s", jerr.text,
               (int)(out.len < 2000 ? out.len : 2000), out.data);
    FUZZ_CHECK(json_money_of(root, "subtotal") == r->subtotal &&
                   json_money_of(root, "discount_total") == r->discount_total &&
                   json_money_of(root, "total") == r->total,
               "result JSON totals differ");
    FUZZ_CHECK(json_array_size(json_object_get(root, "lines")) ==
                       r->line_count &&
                   json_array_size(json_object_get(root, "applied")) ==
                       r->applied_count &&
                   json_array_size(json_object_get(root, "not_applied")) ==
                       r->not_applied_count,
               "result JSON arrays differ");
    json_decref(root);
    ep_buf_deinit(&out);
}

void fuzz_check_result(const struct eval_result *r, const struct cart *cart)
{
    int64_t subtotal = 0;
    int64_t discount = 0;

    FUZZ_CHECK(r->line_count == cart->line_count, "line count");
    for (size_t i = 0; i < r->line_count; i++) {
        check_line(r, i, cart);
        subtotal += r->lines[i].subtotal;
        discount += r->lines[i].discount;
    }
    FUZZ_CHECK(r->subtotal == subtotal, "subtotal %lld, lines %lld",
               (long long)r->subtotal, (long long)subtotal);
    FUZZ_CHECK(r->discount_total == discount, "discount_total %lld, lines %lld",
               (long long)r->discount_total, (long long)discount);
    FUZZ_CHECK(r->total == r->subtotal - r->discount_total && r->total >= 0,
               "total %lld", (long long)r->total);
    check_applied(r);
    check_result_json(r, cart);
}

void fuzz_check_failure(enum ep_status status, const struct ep_error *err)
{
    FUZZ_CHECK(status == EP_ERR_INVALID || status == EP_ERR_TOO_LARGE ||
                   status == EP_ERR_NOMEM,
               "unexpected status %s", ep_status_name(status));
    FUZZ_CHECK(err->status == status, "err holds %s, returned %s",
               ep_status_name(err->status), ep_status_name(status));
    FUZZ_CHECK(err->message[0] != '\0', "error without a message");
    FUZZ_CHECK(status != EP_ERR_NOMEM || ep_mem_failure_seen(),
               "out of memory reported, none happened: %s", err->message);
}

bool fuzz_is_utf8(const char *text)
{
    json_t *s = json_string(text);
    bool ok = s != NULL;

    json_decref(s);
    return ok;
}
