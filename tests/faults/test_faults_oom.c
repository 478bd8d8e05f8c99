/*
 * test_faults_oom.c - out of memory at every allocation of the main paths:
 * the Nth allocation fails (ep_mem_fail_at) for N = 1, 2, ... until the
 * operation runs through, and each failure must end in EP_ERR_NOMEM with
 * a message, with nothing lost: the store unchanged, and the run that
 * finally succeeds giving exactly what a run without faults gives.
 *
 * The walks of tests/engine (a few small promotions) are extended here to
 * the whole example store: every promotion type, scope, targeting and
 * holiday compiled, and every example cart evaluated. Then a sync apply
 * and a checkout commit on a real SQLite store. Leaks show under
 * ASan/LSan (scripts/test.sh runs this program in the sanitizer build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"
#include "faults.h"
#include "support.h"
#include "sync/sync.h"
#include "usage/usage.h"

#define WALK_MAX 200000

static const char *const example_carts[] = {
    "01_kopi_diskon.json",
    "02_kopi_member_qris_stacking.json",
    "03_donat_beli2_gratis1.json",
    "04_ayam_paket_hemat.json",
    "05_roti_makin_banyak_makin_hemat.json",
    "06_ayam_kartu_kredit.json",
    "07_kopi_voucher_senja20.json",
    "08_ayam_walkin_kamis.json",
    "09_paket_segar_es_teh.json",
    "10_ngopi_malam_sabtu_dini_hari.json",
};

#define CART_COUNT (sizeof(example_carts) / sizeof(example_carts[0]))

/* ---- compile: promo_set_build over the example store ------------------- */

struct example_records {
    struct ep_arena arena;
    char *text;
    struct sync_payload payload;
};

static void example_records_load(struct example_records *e)
{
    char path[1024];
    size_t length = 0;
    struct ep_error err = { 0 };

    test_source_path("examples/full_sync.json", path, sizeof(path));
    e->text = test_read_file(path, &length);
    assert_non_null(e->text);
    ep_arena_init(&e->arena, 65536, (size_t)1 << 28);
    if (sync_payload_parse_full(e->text, length, FAULTS_STORE_ID, &e->arena,
                                &e->payload, &err) != EP_OK)
        fail_msg("example store: %s", err.message);
}

static void example_records_free(struct example_records *e)
{
    ep_arena_deinit(&e->arena);
    free(e->text);
}

static enum ep_status build(const struct example_records *e,
                            struct promo_set **out, struct ep_error *err)
{
    struct engine_settings settings = { FAULTS_COMPANY_ID, FAULTS_STORE_ID };

    return promo_set_build(e->payload.promotions, e->payload.promotion_count,
                           e->payload.holidays, e->payload.holiday_count,
                           &settings, NULL, NULL, out, err);
}

/* Parses and evaluates text; the response JSON goes to out. */
static enum ep_status price(const struct promo_set *set, const char *text,
                            size_t length, struct ep_buf *out,
                            struct ep_error *err);

/* Everything a snapshot says: its records, and its answer to each cart. */
static uint64_t fingerprint(const struct promo_set *set)
{
    struct ep_buf out;
    uint64_t hash = 1469598103934665603ULL;

    ep_buf_init(&out, (size_t)1 << 26);
    for (size_t i = 0; i < promo_set_count(set); i++)
        promo_record_write_json(promo_set_record(set, i), &out);
    for (size_t i = 0; i < CART_COUNT; i++) {
        char path[1024];
        char relative[256];
        size_t length = 0;
        char *text;
        snprintf(relative, sizeof(relative), "examples/carts/%s",
                 example_carts[i]);
        test_source_path(relative, path, sizeof(path));
        text = test_read_file(path, &length);
        assert_non_null(text);
        assert_int_equal(price(set, text, length, &out, NULL), EP_OK);
        free(text);
    }
    assert_int_equal(ep_buf_status(&out), EP_OK);
    for (size_t i = 0; i < out.len; i++)
        hash = (hash ^ (unsigned char)out.data[i]) * 1099511628211ULL;
    ep_buf_deinit(&out);
    return hash;
}

static void test_compile_example_store_each_allocation(void **state)
{
    struct example_records e;
    struct promo_set *reference = NULL;
    long failures = 0;
    long absorbed = 0;
    long total;
    uint64_t want;

    (void)state;
    example_records_load(&e);
    total = ep_mem_allocation_count();
    assert_int_equal(build(&e, &reference, NULL), EP_OK);
    total = ep_mem_allocation_count() - total;
    want = fingerprint(reference);
    for (long nth = 1; nth <= total + 1; nth++) {
        struct promo_set *set = NULL;
        struct ep_error err = { 0 };
        enum ep_status status;
        ep_mem_fail_at(nth);
        status = build(&e, &set, &err);
        ep_mem_fail_at(0);
        if (status == EP_OK) {
            /* A failure absorbed must change nothing the snapshot says. */
            if (fingerprint(set) != want)
                fail_msg("allocation %ld failed, the snapshot differs", nth);
            absorbed += nth <= total;
            promo_set_release(set);
            continue;
        }
        if (status != EP_ERR_NOMEM || set != NULL ||
            err.status != EP_ERR_NOMEM || err.message[0] == '\0')
            fail_msg("allocation %ld: %s (%s)", nth, ep_status_name(status),
                     err.message);
        failures++;
    }
    print_message("compile of %zu promotions: %ld allocations, %ld failed "
                  "in turn with EP_ERR_NOMEM, %ld absorbed\n",
                  promo_set_count(reference), total, failures, absorbed);
    assert_true(failures > 100);
    promo_set_release(reference);
    example_records_free(&e);
}

/* ---- evaluate: every example cart ------------------------------------ */

/* Parses and evaluates text; the response JSON goes to out. */
static enum ep_status price(const struct promo_set *set, const char *text,
                            size_t length, struct ep_buf *out,
                            struct ep_error *err)
{
    struct ep_arena arena;
    struct cart *cart = NULL;
    struct eval_result *result = NULL;
    enum ep_status status;

    ep_arena_init(&arena, 4096, (size_t)1 << 26);
    status = cart_parse(text, length, &arena, &cart, err);
    if (status == EP_OK)
        status =
            engine_evaluate(set, cart, FAULTS_NOW, NULL, &arena, &result, err);
    if (status == EP_OK) {
        eval_result_write_json(result, cart, out);
        status = ep_buf_status(out);
    }
    ep_arena_deinit(&arena);
    return status;
}

static long walk_cart(const struct promo_set *set, const char *name)
{
    char path[1024];
    char relative[256];
    size_t length = 0;
    char *text;
    struct ep_buf want;
    long failures = 0;
    long total;

    snprintf(relative, sizeof(relative), "examples/carts/%s", name);
    test_source_path(relative, path, sizeof(path));
    text = test_read_file(path, &length);
    assert_non_null(text);
    ep_buf_init(&want, 1 << 24);
    total = ep_mem_allocation_count();
    assert_int_equal(price(set, text, length, &want, NULL), EP_OK);
    total = ep_mem_allocation_count() - total;
    for (long nth = 1; nth <= total + 1; nth++) {
        struct ep_buf got;
        struct ep_error err = { 0 };
        enum ep_status status;
        ep_buf_init(&got, 1 << 24);
        ep_mem_fail_at(nth);
        status = price(set, text, length, &got, &err);
        ep_mem_fail_at(0);
        if (status == EP_OK) {
            /* The same answer as without a fault, to the byte. */
            if (got.len != want.len ||
                memcmp(got.data, want.data, want.len) != 0)
                fail_msg("%s: allocation %ld failed, the answer differs", name,
                         nth);
        } else if (status != EP_ERR_NOMEM ||
                   (err.status != EP_ERR_NOMEM && err.status != EP_OK)) {
            fail_msg("%s, allocation %ld: %s (%s)", name, nth,
                     ep_status_name(status), err.message);
        } else {
            failures++;
        }
        ep_buf_deinit(&got);
    }
    ep_buf_deinit(&want);
    free(text);
    return failures;
}

static void test_evaluate_example_carts_each_allocation(void **state)
{
    struct example_records e;
    struct promo_set *set = NULL;
    long failures = 0;

    (void)state;
    example_records_load(&e);
    assert_int_equal(build(&e, &set, NULL), EP_OK);
    for (size_t i = 0; i < CART_COUNT; i++)
        failures += walk_cart(set, example_carts[i]);
    print_message("evaluate of %zu carts: %ld allocations failed in turn\n",
                  CART_COUNT, failures);
    assert_true(failures > 100);
    promo_set_release(set);
    example_records_free(&e);
}

/* ---- sync apply: sync_apply_body on a real store ------------------- */

/* Applies a copy of body (the parser writes into its text). */
static enum ep_status apply(struct store *store, const struct faults_db *db,
                            const char *body, size_t length,
                            struct sync_report *report, struct ep_error *err)
{
    struct sync_options options = { NULL, 1 };
    char *text = malloc(length + 1);
    enum ep_status status;

    assert_non_null(text);
    memcpy(text, body, length + 1);
    status = sync_apply_body(store, &db->config, SYNC_FULL, text, length,
                             &options, report, err);
    free(text);
    return status;
}

/* The newest log row must say the run failed, and why. */
static void check_failed_log(struct store *store)
{
    struct ep_arena arena;
    struct store_sync_log *rows = NULL;
    size_t count = 0;

    ep_arena_init(&arena, 4096, 1 << 20);
    assert_int_equal(store_sync_log_recent(store, FAULTS_STORE_ID, 1, &arena,
                                           &rows, &count, NULL),
                     EP_OK);
    assert_int_equal(count, 1);
    assert_string_equal(rows[0].sync_status, "failed");
    assert_non_null(rows[0].error_message);
    assert_non_null(strstr(rows[0].error_message, "out of memory"));
    ep_arena_deinit(&arena);
}

/* A database file put back from its template between runs. */
struct pristine {
    struct faults_db db;     /* the database the walk works on */
    char template_path[700]; /* its contents before the walk */
};

static void pristine_create(struct pristine *p)
{
    char command[1600];

    faults_db_create(&p->db, NULL, true);
    faults_checkpoint(p->db.path);
    snprintf(p->template_path, sizeof(p->template_path), "%s/template.db",
             p->db.dir);
    snprintf(command, sizeof(command), "cp '%s' '%s'", p->db.path,
             p->template_path);
    assert_int_equal(system(command), 0);
}

/* Closes store, puts the database back, returns a store on it. */
static struct store *pristine_restore(struct pristine *p, struct store *store)
{
    char command[2000];

    store_close(store);
    snprintf(command, sizeof(command),
             "rm -f '%s-wal' '%s-shm' && cp '%s' '%s'", p->db.path, p->db.path,
             p->template_path, p->db.path);
    assert_int_equal(system(command), 0);
    return faults_store_open(&p->db, true);
}

/* One failed run: a clear error; the log row, if any, says why. */
static void check_failed_sync(struct store *store, long nth,
                              enum ep_status status,
                              const struct sync_report *report,
                              const struct ep_error *err, bool logged)
{
    if (status != EP_ERR_NOMEM || err->status != EP_ERR_NOMEM ||
        report->outcome != SYNC_FAILED || report->message[0] == '\0')
        fail_msg("allocation %ld: %s, outcome %s (%s)", nth,
                 ep_status_name(status), sync_outcome_name(report->outcome),
                 err->message);
    if (logged)
        check_failed_log(store);
}

/* The walk's counts. */
struct walk {
    long total;    /* allocations of a run without faults */
    long failures; /* runs that failed with EP_ERR_NOMEM */
    long absorbed; /* runs that went through despite a failed allocation */
};

/* A run without faults: its allocations, and the state it leaves. */
static void sync_reference(struct pristine *p, const char *body, size_t length,
                           struct walk *w, struct faults_state *want,
                           int64_t *skipped)
{
    struct store *store = faults_store_open(&p->db, true);
    struct sync_report report;

    w->total = ep_mem_allocation_count();
    assert_int_equal(apply(store, &p->db, body, length, &report, NULL), EP_OK);
    w->total = ep_mem_allocation_count() - w->total;
    assert_int_equal(report.outcome, SYNC_PARTIAL);
    *skipped = report.skipped;
    sync_report_deinit(&report);
    store_close(store);
    faults_state_read(p->db.path, true, want);
}

static void test_sync_apply_each_allocation(void **state)
{
    struct pristine p;
    struct faults_state before;
    struct faults_state want;
    struct faults_state now;
    struct walk w = { 0, 0, 0 };
    struct store *store;
    int64_t skipped = 0;
    size_t length = 0;
    char *body = faults_changing_body(6, &length);

    (void)state;
    pristine_create(&p);
    sync_reference(&p, body, length, &w, &want, &skipped);
    store = pristine_restore(&p, NULL);
    faults_state_read(p.db.path, false, &before);
    for (long nth = 1; nth <= w.total + 1; nth++) {
        struct sync_report report;
        struct ep_error err = { 0 };
        enum ep_status status;
        char when[64];
        ep_mem_fail_at(nth);
        status = apply(store, &p.db, body, length, &report, &err);
        ep_mem_fail_at(0);
        if (status == EP_OK) {
            /* Everything arrived: the rows of the run without faults. */
            assert_int_equal(report.skipped, skipped);
            sync_report_deinit(&report);
            faults_state_read(p.db.path, true, &now);
            snprintf(when, sizeof(when), "sync, allocation %ld absorbed", nth);
            faults_state_assert_equal(&want, &now, when);
            w.absorbed += nth <= w.total;
            store = pristine_restore(&p, store);
            continue;
        }
        faults_state_read(p.db.path, false, &now);
        snprintf(when, sizeof(when), "sync, allocation %ld failed", nth);
        faults_state_assert_equal(&before, &now, when);
        check_failed_sync(store, nth, status, &report, &err,
                          now.log_rows > before.log_rows);
        before.log_rows = now.log_rows;
        sync_report_deinit(&report);
        w.failures++;
    }
    store_close(store);
    print_message("sync apply: %ld allocations, %ld failed in turn with "
                  "EP_ERR_NOMEM and the store unchanged, %ld absorbed\n",
                  w.total, w.failures, w.absorbed);
    assert_true(w.failures > 100);
    faults_db_destroy(&p.db);
    free(body);
}

/* ---- checkout: usage_commit on a real store ------------------------- */

static enum ep_status commit(struct store *store, const struct promo_set *set,
                             const struct cart *cart, struct ep_buf *response,
                             struct ep_error *err)
{
    struct ep_arena arena;
    bool replayed = false;
    enum ep_status status;

    ep_arena_init(&arena, 4096, (size_t)1 << 26);
    status = usage_commit(store, set, cart, FAULTS_STORE_ID, FAULTS_NOW, &arena,
                          response, &replayed, err);
    ep_arena_deinit(&arena);
    assert_false(replayed);
    return status;
}

/* A commit without faults: allocations, response and state. */
static void commit_reference(struct pristine *p, const struct promo_set *set,
                             const struct cart *cart, struct walk *w,
                             struct ep_buf *response, struct faults_state *out)
{
    struct store *store = faults_store_open(&p->db, true);

    w->total = ep_mem_allocation_count();
    assert_int_equal(commit(store, set, cart, response, NULL), EP_OK);
    w->total = ep_mem_allocation_count() - w->total;
    store_close(store);
    faults_state_read(p->db.path, true, out);
}

/* One run of the walk; returns the store to use next. */
static struct store *commit_once(struct pristine *p, struct store *store,
                                 const struct promo_set *set,
                                 const struct cart *cart, long nth,
                                 const struct ep_buf *want_response,
                                 const struct faults_state *before,
                                 const struct faults_state *want,
                                 struct walk *w)
{
    struct faults_state now;
    struct ep_buf response;
    struct ep_error err = { 0 };
    enum ep_status status;
    char when[96];

    ep_buf_init(&response, 1 << 24);
    ep_mem_fail_at(nth);
    status = commit(store, set, cart, &response, &err);
    ep_mem_fail_at(0);
    snprintf(when, sizeof(when), "commit, allocation %ld %s", nth,
             status == EP_OK ? "absorbed" : "failed");
    if (status == EP_OK) {
        assert_string_equal(response.data, want_response->data);
        faults_state_read(p->db.path, true, &now);
        faults_state_assert_equal(want, &now, when);
        w->absorbed += nth <= w->total;
        store = pristine_restore(p, store);
    } else {
        if (status != EP_ERR_NOMEM || err.message[0] == '\0')
            fail_msg("%s: %s (%s)", when, ep_status_name(status), err.message);
        faults_state_read(p->db.path, false, &now);
        faults_state_assert_equal(before, &now, when);
        w->failures++;
    }
    ep_buf_deinit(&response);
    return store;
}

static void walk_commit(const char *cart_name, struct walk *sum)
{
    struct pristine p;
    struct faults_state before;
    struct faults_state want;
    struct ep_buf want_response;
    struct walk w = { 0, 0, 0 };
    struct store *store;
    struct promo_set *set;
    struct ep_arena arena;
    struct cart *cart;

    pristine_create(&p);
    store = faults_store_open(&p.db, true);
    set = faults_snapshot(store, &p.db);
    store_close(store);
    ep_arena_init(&arena, 4096, 1 << 24);
    cart = faults_example_cart(cart_name, "faults-oom-1", &arena);
    ep_buf_init(&want_response, 1 << 24);
    commit_reference(&p, set, cart, &w, &want_response, &want);
    store = pristine_restore(&p, NULL);
    faults_state_read(p.db.path, false, &before);
    for (long nth = 1; nth <= w.total + 1; nth++)
        store = commit_once(&p, store, set, cart, nth, &want_response, &before,
                            &want, &w);
    store_close(store);
    promo_set_release(set);
    ep_arena_deinit(&arena);
    ep_buf_deinit(&want_response);
    faults_db_destroy(&p.db);
    sum->total += w.total;
    sum->failures += w.failures;
    sum->absorbed += w.absorbed;
}

static void test_commit_each_allocation(void **state)
{
    struct walk w = { 0, 0, 0 };

    (void)state;
    walk_commit("02_kopi_member_qris_stacking.json", &w);
    walk_commit("04_ayam_paket_hemat.json", &w);
    walk_commit("07_kopi_voucher_senja20.json", &w);
    print_message("commit of 3 carts: %ld allocations, %ld failed in turn "
                  "with EP_ERR_NOMEM and the store unchanged, %ld "
                  "absorbed\n",
                  w.total, w.failures, w.absorbed);
    assert_true(w.failures > 20);
}

static int setup(void **state)
{
    (void)state;
    ep_mem_install_json_allocator();
    ep_log_set_level(EP_LOG_OFF);
    assert_int_equal(ep_tz_apply("Asia/Jakarta", NULL), EP_OK);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_example_store_each_allocation),
        cmocka_unit_test(test_evaluate_example_carts_each_allocation),
        cmocka_unit_test(test_sync_apply_each_allocation),
        cmocka_unit_test(test_commit_each_allocation),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
