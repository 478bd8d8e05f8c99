/*
 * test_sync_plan.c - the scheduler's timing. The policy is a pure function
 * of a plan and a clock, so days offline are simulated in microseconds:
 * attempts are counted against the backoff design, 4xx answers are not
 * retried in a tight loop, and the first good run resets everything. Then
 * the real scheduler thread, at a test scale, against the fake CMS: down
 * (nothing stored is touched, attempts back off), back up (it catches up
 * by itself and a new engine snapshot is in the slot).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"

#define SECOND ((int64_t)1000)
#define MINUTE (60 * SECOND)
#define DAY    (24 * 60 * MINUTE)

static void default_policy(struct sync_policy *p)
{
    struct ep_config config;

    assert_int_equal(ep_config_init(&config), EP_OK);
    sync_policy_from_config(&config, p);
    ep_config_deinit(&config);
}

static struct sync_report outcome(enum sync_kind ran, enum sync_retry retry)
{
    struct sync_report r;

    memset(&r, 0, sizeof(r));
    r.kind = ran;
    r.retry = retry;
    r.outcome = retry == SYNC_RETRY_NONE ? SYNC_SUCCESS : SYNC_FAILED;
    return r;
}

static void backoff_grows_with_jitter_up_to_15_minutes(void **state)
{
    struct sync_policy p;
    uint64_t rng = 42;
    int64_t base[] = { 10, 20, 40, 80, 160, 320, 640, 900, 900, 900 };

    (void)state;
    default_policy(&p);
    assert_int_equal(p.incremental_interval_ms, 300 * SECOND);
    assert_int_equal(p.full_interval_ms, DAY);
    for (int round = 0; round < 200; round++) {
        for (int n = 1; n <= 10; n++) {
            int64_t d = sync_backoff_ms(&p, n, &rng);
            assert_true(d >= base[n - 1] * SECOND / 2);
            assert_true(d <= base[n - 1] * SECOND);
        }
    }
    assert_true(sync_backoff_ms(&p, 1000, &rng) <= 15 * MINUTE);
}

static void first_run_is_full_then_incrementals(void **state)
{
    struct sync_policy p;
    struct sync_plan plan;
    enum sync_kind kind;
    int64_t at;
    struct sync_report good;

    (void)state;
    default_policy(&p);
    sync_plan_init(&plan, 1000, 7);
    sync_plan_next(&plan, &kind, &at);
    assert_int_equal(kind, SYNC_FULL);
    assert_int_equal(at, 1000);
    good = outcome(SYNC_FULL, SYNC_RETRY_NONE);
    sync_plan_record(&plan, &p, SYNC_FULL, &good, 1000);
    sync_plan_next(&plan, &kind, &at);
    assert_int_equal(kind, SYNC_INCREMENTAL);
    assert_int_equal(at, 1000 + 300 * SECOND);
    /* A day of good incrementals, then the full one is due. */
    good = outcome(SYNC_INCREMENTAL, SYNC_RETRY_NONE);
    for (int i = 0; i < 287; i++) {
        sync_plan_next(&plan, &kind, &at);
        assert_int_equal(kind, SYNC_INCREMENTAL);
        sync_plan_record(&plan, &p, kind, &good, at);
    }
    sync_plan_next(&plan, &kind, &at);
    assert_int_equal(kind, SYNC_FULL);
    assert_int_equal(at, 1000 + DAY);
}

/* Runs the plan against a simulated clock; counts attempts. */
static int simulate(struct sync_plan *plan, const struct sync_policy *p,
                    int64_t *now, int64_t until, enum sync_retry retry,
                    int64_t *longest_gap)
{
    enum sync_kind kind;
    int64_t at;
    int64_t last = *now;
    int attempts = 0;
    struct sync_report r;

    for (;;) {
        sync_plan_next(plan, &kind, &at);
        if (at > until)
            break;
        *now = at > *now ? at : *now;
        if (longest_gap != NULL && attempts > 0 && *now - last > *longest_gap)
            *longest_gap = *now - last;
        last = *now;
        r = outcome(kind, retry);
        sync_plan_record(plan, p, kind, &r, *now);
        attempts++;
    }
    return attempts;
}

static void three_days_offline_back_off_as_designed(void **state)
{
    struct sync_policy p;
    struct sync_plan plan;
    int64_t now = 0;
    int64_t gap = 0;
    enum sync_kind kind;
    int64_t at;
    int attempts;
    struct sync_report good;

    (void)state;
    default_policy(&p);
    sync_plan_init(&plan, now, 12345);
    attempts = simulate(&plan, &p, &now, 3 * DAY, SYNC_RETRY_BACKOFF, &gap);
    /* Ramp 10+20+...+640 s (at most 21 min), then one try per 7.5-15 min. */
    assert_true(attempts >= 3 * DAY / (15 * MINUTE));
    assert_true(attempts <= 8 + 3 * DAY / (15 * MINUTE / 2));
    assert_true(gap <= 15 * MINUTE);
    assert_true(gap >= 15 * MINUTE / 2);
    assert_true(plan.failures == attempts);
    /* The retries are of the full sync that was due at start. */
    sync_plan_next(&plan, &kind, &at);
    assert_int_equal(kind, SYNC_FULL);
    assert_true(at - now <= 15 * MINUTE);
    /* The CMS answers: one good run resets the backoff. */
    good = outcome(SYNC_FULL, SYNC_RETRY_NONE);
    sync_plan_record(&plan, &p, kind, &good, at);
    assert_int_equal(plan.failures, 0);
    sync_plan_next(&plan, &kind, &now);
    assert_int_equal(kind, SYNC_INCREMENTAL);
    assert_int_equal(now, at + 300 * SECOND);
}

static void client_errors_wait_the_normal_interval(void **state)
{
    struct sync_policy p;
    struct sync_plan plan;
    int64_t now = 0;
    int64_t gap = 0;
    int attempts;

    (void)state;
    default_policy(&p);
    sync_plan_init(&plan, now, 99);
    attempts = simulate(&plan, &p, &now, DAY, SYNC_RETRY_LATER, &gap);
    /* 401 all day: one attempt per sync_interval, never faster. */
    assert_int_equal(attempts, DAY / (300 * SECOND) + 1);
    assert_int_equal(gap, 300 * SECOND);
    assert_int_equal(plan.failures, 0);
}

/* ---- the real thread, at a test scale --------------------------------- */

struct done_log {
    int runs;
    int good;
};

static void on_done(void *ctx, const struct sync_report *report)
{
    struct done_log *log = ctx;

    log->runs++;
    log->good += report->retry == SYNC_RETRY_NONE ? 1 : 0;
}

static void scheduler_rides_out_an_outage(void **state)
{
    struct fixture f;
    struct engine_slot *slot = engine_slot_new();
    struct sync_scheduler *s = NULL;
    struct sync_policy p = { 400, 60000, 20, 160 };
    struct sync_scheduler_stats st;
    struct done_log log = { 0, 0 };
    struct sync_report r;
    struct ep_error err = { 0 };
    struct promo_set *set;
    char *before;
    char *after;

    (void)state;
    fixture_setup(&f);
    fixture_serve_full(&f, "A", 0, 8);
    assert_int_equal(fixture_sync(&f, SYNC_FULL, &r), EP_OK);
    sync_report_deinit(&r);
    fixture_use(&f, "A-000001", "AC000001", "t1", "cust-1");
    before = fixture_dump(&f);
    fake_cms_set_mode(f.cms, FAKE_CMS_STATUS, 503);
    assert_int_equal(
        sync_scheduler_new(&f.config, slot, on_done, &log, &s, &err), EP_OK);
    sync_scheduler_set_policy(s, &p);
    assert_int_equal(sync_scheduler_start(s, &err), EP_OK);
    usleep(1500 * 1000);
    sync_scheduler_stats_get(s, &st);
    /* Backoff 10-20, 20-40, 40-80, 80-160 ms, then 80-160 ms each: over
       1.5 s that is far fewer tries than a tight loop would make. */
    assert_true(st.failed >= 6);
    assert_true(st.failed <= 1500 / 80 + 4);
    assert_int_equal(st.good, 0);
    /* Down, the stored promotions still sell: the slot was filled. */
    set = engine_slot_acquire(slot);
    assert_non_null(set);
    assert_int_equal(promo_set_count(set), 8);
    promo_set_release(set);
    after = fixture_dump(&f);
    assert_string_equal(before, after);
    /* Back up: the next run catches up by itself. */
    fixture_serve_full(&f, "A", 0, 12);
    fake_cms_set_mode(f.cms, FAKE_CMS_OK, 0);
    for (int i = 0; i < 100 && st.good == 0; i++) {
        usleep(20 * 1000);
        sync_scheduler_stats_get(s, &st);
    }
    assert_true(st.good >= 1);
    assert_int_equal(st.failures_in_row, 0);
    sync_scheduler_free(s);
    set = engine_slot_acquire(slot);
    assert_int_equal(promo_set_count(set), 12);
    promo_set_release(set);
    assert_true(log.runs >= 7);
    assert_true(log.good >= 1);
    engine_slot_free(slot);
    free(before);
    free(after);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_grows_with_jitter_up_to_15_minutes),
        cmocka_unit_test(first_run_is_full_then_incrementals),
        cmocka_unit_test(three_days_offline_back_off_as_designed),
        cmocka_unit_test(client_errors_wait_the_normal_interval),
    };
    /* The real thread reads and writes a store: both engines. */
    const struct CMUnitTest stored[] = {
        cmocka_unit_test(scheduler_rides_out_an_outage),
    };
    int failures = cmocka_run_group_tests(tests, NULL, NULL);

    return failures + test_engines_run("test-sync-plan scheduler", stored,
                                       sizeof(stored) / sizeof(stored[0]));
}
