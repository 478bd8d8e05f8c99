/*
 * test_store_seed.c - the foundation test: the seed note's example queries
 * still run, unchanged, on our SQLite file through the sqlite3 shell, and
 * return the rows they should (SPEC.md section 6, last paragraph: other
 * store software reads this database).
 *
 * A promotions export (tests/data/store/promotions_export.json, whose
 * "@TODAY+N@" dates are made relative to today, and then, when it exists,
 * examples/full_sync.json) is loaded into a fresh database through the
 * store API, as `edgepromo sync --from` does: sync_payload_parse_full, then
 * store_sync_apply. Usage rows and sync log rows are added through the
 * store API too. Then each query of tests/data/store/seed_queries/ - the
 * note's text verbatim - runs in the sqlite3 shell with its ? parameters
 * set by ".parameter set ?N 'value'", and its rows are compared with what
 * the records say they must be. The seed uses CURRENT_DATE (UTC in
 * SQLite), so the expectations use today's UTC date.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mem.h"
#include "store/store.h"
#include "support.h"
#include "sync/sync.h"

#define DATE_MAX 16
#define TS_MAX   32

struct seed {
    char dir[512];               /* temporary folder */
    char db_path[600];           /* the SQLite file */
    bool own_fixture;            /* tests/data/store, not examples/ */
    char *text;                  /* the export, parsed in place */
    struct ep_arena arena;       /* records and payload */
    struct sync_payload payload; /* the parsed export */
    const char *store_id;        /* the export's store */
    const char *company_id;      /* its promotions' company */
    const char *usage_promotion; /* id of the promotion with usage rows */
    char today[DATE_MAX];        /* UTC, as CURRENT_DATE */
    char now_clock[DATE_MAX];    /* UTC, as CURRENT_TIME */
    char last_sync_at[TS_MAX];   /* started_at of the newest log row */
};

/* ---- dates -------------------------------------------------------------- */

static void utc_text(time_t t, const char *format, char *out, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, size, format, &tm);
}

/* Replaces every "@TODAY+N@" / "@TODAY-N@" with that UTC date, in place. */
static void expand_dates(char *text)
{
    char *at = text;
    char date[DATE_MAX];

    while ((at = strstr(at, "@TODAY")) != NULL) {
        char *end = NULL;
        long days = strtol(at + 6, &end, 10);
        assert_non_null(end);
        assert_int_equal(*end, '@');
        utc_text(time(NULL) + days * 86400, "%Y-%m-%d", date, sizeof(date));
        memmove(at + strlen(date), end + 1, strlen(end + 1) + 1);
        memcpy(at, date, strlen(date));
        at += strlen(date);
    }
}

/* ---- loading ------------------------------------------------------------ */

/* Which export the group being run loads. */
static bool use_examples;
/* Set at the end of a group setup: cmocka counts no failure for a group
   whose setup failed, so main does. */
static bool setup_done;

static char *read_export(struct seed *s)
{
    char path[1024];
    char *text;

    s->own_fixture = !use_examples;
    if (use_examples) {
        test_source_path("examples/full_sync.json", path, sizeof(path));
        text = test_read_file(path, NULL);
        assert_non_null(text);
        return text;
    }
    test_source_path("tests/data/store/promotions_export.json", path,
                     sizeof(path));
    text = test_read_file(path, NULL);
    assert_non_null(text);
    /* Room for dates longer than their tokens. */
    text = realloc(text, strlen(text) * 2 + 1);
    assert_non_null(text);
    expand_dates(text);
    return text;
}

/* The first key of the export's object: the store the body is for. */
static const char *first_store_id(struct seed *s)
{
    json_t *root = json_loads(s->text, 0, NULL);
    const char *key;
    char *copy;

    assert_non_null(root);
    key = json_object_iter_key(json_object_iter(root));
    assert_non_null(key);
    copy = ep_arena_strdup(&s->arena, key);
    json_decref(root);
    return copy;
}

static void load_export(struct seed *s, struct store *store)
{
    char synced_at[TS_MAX];
    struct store_sync_batch b = { 0 };
    struct store_sync_counts counts;
    struct ep_error err;

    ep_error_clear(&err);
    s->text = read_export(s);
    s->store_id = first_store_id(s);
    if (sync_payload_parse_full(s->text, strlen(s->text), s->store_id,
                                &s->arena, &s->payload, &err) != EP_OK)
        fail_msg("export: %s (%s)", err.message, err.field);
    if (s->own_fixture)
        assert_int_equal(s->payload.rejection_count, 0);
    assert_true(s->payload.promotion_count > 0);
    s->company_id = s->payload.promotions[0].company_id;
    utc_text(time(NULL), "%Y-%m-%d %H:%M:%S", synced_at, sizeof(synced_at));
    b.full = true;
    b.company_id = s->company_id;
    b.store_id = s->store_id;
    b.items = s->payload.promotions;
    b.item_count = s->payload.promotion_count;
    b.replace_holidays = s->payload.has_holidays;
    b.holidays = s->payload.holidays;
    b.holiday_count = s->payload.holiday_count;
    b.cursor = s->payload.sync_token;
    b.server_time = s->payload.server_time;
    b.synced_at = synced_at;
    if (store_sync_apply(store, &b, &counts, &err) != EP_OK)
        fail_msg("sync: %s (%s)", err.message, err.field);
    assert_int_equal(counts.added, (int64_t)s->payload.promotion_count);
}

/* Three uses today (one voided), one yesterday; two customers. */
static void add_usage(struct seed *s, struct store *store)
{
    const char *const customers[] = { "cust-1", "cust-1", "cust-2", "cust-1" };
    char yesterday[DATE_MAX];
    char used_at[TS_MAX];
    char txn[32];
    struct store_usage_row r = { 0 };
    struct ep_error err;
    int64_t voided = 0;

    ep_error_clear(&err);
    utc_text(time(NULL) - 86400, "%Y-%m-%d", yesterday, sizeof(yesterday));
    utc_text(time(NULL), "%Y-%m-%d %H:%M:%S", used_at, sizeof(used_at));
    s->usage_promotion = s->payload.promotions[0].id;
    for (int i = 0; i < 4; i++) {
        snprintf(txn, sizeof(txn), "seed-tx-%d", i);
        r.promotion_id = s->usage_promotion;
        r.promotion_code = s->payload.promotions[0].code;
        r.transaction_id = txn;
        r.customer_id = customers[i];
        r.discount_amount = 1235;
        r.original_amount = 10000;
        r.final_amount = 8765;
        r.brand_id = s->payload.promotions[0].brand_id;
        r.store_id = s->store_id;
        r.used_at = used_at;
        r.usage_date = i < 3 ? s->today : yesterday;
        assert_int_equal(store_write_begin(store, &err), EP_OK);
        assert_int_equal(store_usage_insert(store, &r, &err), EP_OK);
        assert_int_equal(store_write_commit(store, &err), EP_OK);
    }
    assert_int_equal(store_write_begin(store, &err), EP_OK);
    assert_int_equal(store_transaction_void(store, "seed-tx-2", used_at, "{}",
                                            &voided, &err),
                     EP_OK);
    assert_int_equal(store_write_commit(store, &err), EP_OK);
    assert_int_equal(voided, 1);
}

/* Runs of the last days: 4 within 7 days (2 successful), one older. */
static void add_sync_log(struct seed *s, struct store *store)
{
    const struct {
        const char *type;
        const char *status;
        int seconds_ago;
        int64_t duration;
    } runs[] = {
        { "full", "success", 86400, 2 },
        { "incremental", "failed", 2 * 86400, 10 },
        { "incremental", "partial", 3 * 86400, 3 },
        { "full", "success", 10 * 86400, 100 },
        { "manual", "success", 10, 1 },
    };
    struct ep_error err;

    ep_error_clear(&err);
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        char started[TS_MAX];
        struct store_sync_log e = {
            .sync_type = runs[i].type,
            .sync_status = runs[i].status,
            .company_id = s->company_id,
            .store_id = s->store_id,
            .started_at = started,
            .duration_seconds = runs[i].duration,
            .duration_ms = runs[i].duration * 1000,
            .edge_version = "0.1.0",
        };
        utc_text(time(NULL) - runs[i].seconds_ago, "%Y-%m-%d %H:%M:%S", started,
                 sizeof(started));
        assert_int_equal(store_sync_log_insert(store, &e, &err), EP_OK);
        snprintf(s->last_sync_at, sizeof(s->last_sync_at), "%s", started);
    }
}

static int setup(void **state)
{
    struct seed *s = calloc(1, sizeof(*s));
    struct store *store = NULL;
    struct ep_error err;

    assert_non_null(s);
    ep_error_clear(&err);
    ep_arena_init(&s->arena, 1 << 16, (size_t)64 << 20);
    utc_text(time(NULL), "%Y-%m-%d", s->today, sizeof(s->today));
    test_tmpdir(s->dir, sizeof(s->dir));
    snprintf(s->db_path, sizeof(s->db_path), "%s/edge.db", s->dir);
    assert_int_equal(store_open(s->db_path, NULL, &store, &err), EP_OK);
    assert_int_equal(store_migrate(store, 0, NULL, &err), EP_OK);
    load_export(s, store);
    add_usage(s, store);
    add_sync_log(s, store);
    store_close(store);
    utc_text(time(NULL), "%H:%M:%S", s->now_clock, sizeof(s->now_clock));
    *state = s;
    setup_done = true;
    return 0;
}

static int teardown(void **state)
{
    struct seed *s = *state;

    if (s == NULL)
        return 0;
    test_rmdir(s->dir);
    ep_arena_deinit(&s->arena);
    free(s->text);
    free(s);
    return 0;
}

/* ---- the sqlite3 shell -------------------------------------------------- */

/* Appends ".parameter set ?N 'value'" with quotes doubled. */
static void put_parameter(FILE *f, int n, const char *value)
{
    fprintf(f, ".parameter set ?%d '", n);
    for (const char *p = value; *p != '\0'; p++)
        fprintf(f, *p == '\'' ? "''" : "%c", *p);
    fprintf(f, "'\n");
}

/*
 * Runs seed query file name with parameters through the sqlite3 shell
 * (JSON output) and returns the rows as a JSON array.
 */
static json_t *run_seed_query(const struct seed *s, const char *name,
                              const char *const *params, int count)
{
    char query_path[1024];
    char script_path[700];
    char command[2400];
    char *query;
    char *out = NULL;
    char *errors = NULL;
    json_t *rows;
    FILE *f;
    int rc;

    snprintf(query_path, sizeof(query_path),
             "%s/tests/data/store/seed_queries/%s.sql", test_source_dir(),
             name);
    query = test_read_file(query_path, NULL);
    assert_non_null(query);
    snprintf(script_path, sizeof(script_path), "%s/%s.script", s->dir, name);
    f = fopen(script_path, "w");
    assert_non_null(f);
    fprintf(f, ".bail on\n.mode json\n.parameter init\n");
    for (int i = 0; i < count; i++)
        put_parameter(f, i + 1, params[i]);
    fputs(query, f);
    fclose(f);
    free(query);
    snprintf(command, sizeof(command), "sqlite3 -batch '%s' < '%s'", s->db_path,
             script_path);
    rc = test_run(command, &out, &errors);
    if (rc != 0)
        fail_msg("sqlite3 failed (%d) on %s: %s", rc, name,
                 errors ? errors : "");
    rows =
        out != NULL && out[0] != '\0' ? json_loads(out, 0, NULL) : json_array();
    if (!json_is_array(rows))
        fail_msg("sqlite3 output of %s is not JSON rows: %s", name, out);
    free(out);
    free(errors);
    return rows;
}

static const char *row_text(const json_t *row, const char *column)
{
    const json_t *v = json_object_get(row, column);

    if (!json_is_string(v))
        fail_msg("column %s is not text", column);
    return json_string_value(v);
}

static json_int_t row_int(const json_t *row, const char *column)
{
    const json_t *v = json_object_get(row, column);

    if (!json_is_integer(v))
        fail_msg("column %s is not an integer", column);
    return json_integer_value(v);
}

/* ---- expectations ------------------------------------------------------- */

static bool in_dates(const struct seed *s, const struct promo_record *p)
{
    return p->is_active && strcmp(p->start_date, s->today) <= 0 &&
           strcmp(p->end_date, s->today) >= 0;
}

static bool in_time(const struct seed *s, const struct promo_record *p)
{
    return (p->time_start == NULL ||
            strcmp(p->time_start, s->now_clock) <= 0) &&
           (p->time_end == NULL || strcmp(p->time_end, s->now_clock) >= 0);
}

static bool owned_by(const struct promo_record *p, const char *company,
                     const char *store, const char *brand)
{
    return strcmp(p->company_id, company) == 0 &&
           strcmp(p->store_id, store) == 0 &&
           (brand == NULL || strcmp(p->brand_id, brand) == 0);
}

static const struct promo_record *record_of(const struct seed *s,
                                            const char *id)
{
    for (size_t i = 0; i < s->payload.promotion_count; i++) {
        if (strcmp(s->payload.promotions[i].id, id) == 0)
            return &s->payload.promotions[i];
    }
    fail_msg("the query returned an unknown id %s", id);
    return NULL;
}

/* The rows' ids must be exactly the records that pass keep(). */
static void expect_ids(const struct seed *s, const json_t *rows,
                       bool (*keep)(const struct seed *,
                                    const struct promo_record *,
                                    const char *brand),
                       const char *brand)
{
    size_t expected = 0;
    size_t i;
    const json_t *row;

    for (i = 0; i < s->payload.promotion_count; i++)
        expected += keep(s, &s->payload.promotions[i], brand) ? 1 : 0;
    assert_int_equal(json_array_size(rows), expected);
    json_array_foreach(rows, i, row)
    {
        assert_true(keep(s, record_of(s, row_text(row, "id")), brand));
    }
}

static bool keep_active(const struct seed *s, const struct promo_record *p,
                        const char *brand)
{
    return owned_by(p, s->company_id, s->store_id, brand) && in_dates(s, p) &&
           in_time(s, p);
}

static bool keep_auto(const struct seed *s, const struct promo_record *p,
                      const char *brand)
{
    (void)brand;
    return owned_by(p, s->company_id, s->store_id, NULL) && in_dates(s, p) &&
           p->is_auto_apply;
}

/* Rows ordered by execution_priority, then execution_stage. */
static void expect_order(const json_t *rows)
{
    for (size_t i = 1; i < json_array_size(rows); i++) {
        const json_t *a = json_array_get(rows, i - 1);
        const json_t *b = json_array_get(rows, i);
        json_int_t pa = row_int(a, "execution_priority");
        json_int_t pb = row_int(b, "execution_priority");
        assert_true(pa < pb ||
                    (pa == pb && strcmp(row_text(a, "execution_stage"),
                                        row_text(b, "execution_stage")) <= 0));
    }
}

/* The codes of the rows, comma-separated, in their order. */
static void codes_of(const json_t *rows, char *out, size_t size)
{
    size_t i;
    const json_t *row;

    out[0] = '\0';
    json_array_foreach(rows, i, row)
    {
        strncat(out, i > 0 ? "," : "", size - strlen(out) - 1);
        strncat(out, row_text(row, "code"), size - strlen(out) - 1);
    }
}

/* ---- the queries -------------------------------------------------------- */

static void test_active_promotions_for_a_brand(void **state)
{
    struct seed *s = *state;
    char codes[512];

    for (size_t i = 0; i < s->payload.promotion_count; i++) {
        const char *brand = s->payload.promotions[i].brand_id;
        const char *params[] = { s->company_id, s->store_id, brand };
        json_t *rows = run_seed_query(s, "1_active_promotions", params, 3);
        expect_ids(s, rows, keep_active, brand);
        expect_order(rows);
        codes_of(rows, codes, sizeof(codes));
        if (s->own_fixture &&
            strcmp(brand, "4b4c6546-159b-4cd0-96d4-50a763ba12df") == 0)
            assert_string_equal(codes, "HEMAT5K,HAPPYHOUR,DIC10");
        if (s->own_fixture &&
            strcmp(brand, "9f1c8e2a-3b4d-4c5e-8f6a-7b8c9d0e1f20") == 0)
            assert_string_equal(codes, "PAKETKOPI");
        json_decref(rows);
    }
}

static void test_usage_counts(void **state)
{
    struct seed *s = *state;
    const char *day[] = { s->usage_promotion };
    const char *customer[] = { s->usage_promotion, "cust-1" };
    const char *nobody[] = { s->usage_promotion, "cust-9" };
    json_t *rows;

    /* The seed's query does not know voids: it counts all three. */
    rows = run_seed_query(s, "2_daily_usage", day, 1);
    assert_int_equal(json_array_size(rows), 1);
    assert_int_equal(row_int(json_array_get(rows, 0), "usage_count"), 3);
    json_decref(rows);
    rows = run_seed_query(s, "2_customer_usage", customer, 2);
    assert_int_equal(row_int(json_array_get(rows, 0), "customer_usage"), 3);
    json_decref(rows);
    rows = run_seed_query(s, "2_customer_usage", nobody, 2);
    assert_int_equal(row_int(json_array_get(rows, 0), "customer_usage"), 0);
    json_decref(rows);
}

static void test_auto_apply_promotions(void **state)
{
    struct seed *s = *state;
    const char *params[] = { s->company_id, s->store_id };
    json_t *rows = run_seed_query(s, "3_auto_apply", params, 2);
    const json_t *row;
    size_t i;

    expect_ids(s, rows, keep_auto, NULL);
    json_array_foreach(rows, i, row)
    {
        const struct promo_record *p = record_of(s, row_text(row, "id"));
        json_t *rules = json_loads(row_text(row, "rules_json"), 0, NULL);
        /* Flags are 0/1 and the JSON columns are the CMS's JSON. */
        assert_int_equal(row_int(row, "is_active"), 1);
        assert_int_equal(row_int(row, "is_auto_apply"), 1);
        assert_true(json_is_object(rules));
        json_decref(rules);
        assert_string_equal(row_text(row, "code"), p->code);
        assert_string_equal(row_text(row, "start_date"), p->start_date);
        assert_string_equal(row_text(row, "compiled_at"), p->compiled_at);
    }
    if (s->own_fixture)
        assert_int_equal(json_array_size(rows), 4);
    json_decref(rows);
}

static void test_last_sync(void **state)
{
    struct seed *s = *state;
    const char *params[] = { s->store_id };
    json_t *rows = run_seed_query(s, "4_last_sync", params, 1);
    const json_t *row = json_array_get(rows, 0);

    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(row_text(row, "sync_type"), "manual");
    assert_string_equal(row_text(row, "sync_status"), "success");
    assert_string_equal(row_text(row, "started_at"), s->last_sync_at);
    assert_string_equal(row_text(row, "store_id"), s->store_id);
    assert_int_equal(row_int(row, "duration_seconds"), 1);
    json_decref(rows);
}

static void test_success_rate(void **state)
{
    struct seed *s = *state;
    const char *params[] = { s->store_id };
    const char *other[] = { "no-such-store" };
    json_t *rows = run_seed_query(s, "4_success_rate", params, 1);
    const json_t *row = json_array_get(rows, 0);
    const json_t *avg = json_object_get(row, "avg_duration");

    assert_int_equal(row_int(row, "total_syncs"), 4);
    assert_int_equal(row_int(row, "successful"), 2);
    assert_true(json_is_number(avg));
    assert_true(json_number_value(avg) > 3.99 && json_number_value(avg) < 4.01);
    json_decref(rows);
    rows = run_seed_query(s, "4_success_rate", other, 1);
    assert_int_equal(row_int(json_array_get(rows, 0), "total_syncs"), 0);
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_promotions_for_a_brand),
        cmocka_unit_test(test_usage_counts),
        cmocka_unit_test(test_auto_apply_promotions),
        cmocka_unit_test(test_last_sync),
        cmocka_unit_test(test_success_rate),
    };

    char path[1024];
    int failures;

    failures = cmocka_run_group_tests_name("seed queries, own export", tests,
                                           setup, teardown);
    failures += setup_done ? 0 : 1;
    test_source_path("examples/full_sync.json", path, sizeof(path));
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "test-store-seed: no examples/full_sync.json\n");
        return failures;
    }
    use_examples = true;
    setup_done = false;
    failures += cmocka_run_group_tests_name("seed queries, examples export",
                                            tests, setup, teardown);
    failures += setup_done ? 0 : 1;
    return failures;
}
