/*
 * test_localtime.c - dates, clocks, RFC 3339 and the store's zone,
 * including a zone with daylight saving (not a fixed offset).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/localtime.h"

static void test_rfc3339(void **state)
{
    int64_t t = 0;
    int64_t z = 0;

    (void)state;
    assert_int_equal(ep_time_parse_rfc3339("2026-01-30T23:30:00+07:00", &t),
                     EP_OK);
    assert_int_equal(ep_time_parse_rfc3339("2026-01-30T16:30:00Z", &z), EP_OK);
    assert_int_equal(t, z);
    assert_int_equal(ep_time_parse_rfc3339("2026-01-30T16:30:00.123Z", &z),
                     EP_OK);
    assert_int_equal(t, z);
    assert_int_equal(ep_time_parse_rfc3339("2026-02-30T16:30:00Z", &z),
                     EP_ERR_INVALID);
    assert_int_equal(ep_time_parse_rfc3339("2026-01-30 16:30", &z),
                     EP_ERR_INVALID);
    assert_int_equal(ep_time_parse_rfc3339("2026-01-30T16:30:00", &z),
                     EP_ERR_INVALID);
}

static void test_jakarta_late_evening(void **state)
{
    struct ep_local_time local;
    char date[EP_DATE_TEXT_MAX];
    int64_t t = 0;

    (void)state;
    assert_int_equal(ep_tz_apply("Asia/Jakarta", NULL), EP_OK);
    assert_int_equal(ep_time_parse_rfc3339("2026-01-30T16:30:00Z", &t), EP_OK);
    ep_local_time_of(t, &local);
    ep_date_format(local.date, date);
    assert_string_equal(date, "2026-01-30");
    assert_int_equal(local.seconds, 23 * 3600 + 30 * 60);
    assert_int_equal(local.weekday, 4); /* Friday */
}

static void test_new_york_dst(void **state)
{
    struct ep_local_time local;
    int64_t t = 0;

    (void)state;
    assert_int_equal(ep_tz_apply("America/New_York", NULL), EP_OK);
    /* 2026-03-08 07:30 UTC is 03:30 EDT (02:00-02:59 was skipped). */
    assert_int_equal(ep_time_parse_rfc3339("2026-03-08T07:30:00Z", &t), EP_OK);
    ep_local_time_of(t, &local);
    assert_int_equal(local.seconds, 3 * 3600 + 30 * 60);
    /* The day before, the same UTC time is 02:30 EST. */
    assert_int_equal(ep_time_parse_rfc3339("2026-03-07T07:30:00Z", &t), EP_OK);
    ep_local_time_of(t, &local);
    assert_int_equal(local.seconds, 2 * 3600 + 30 * 60);
    /* 2026-11-01: 05:30 and 06:30 UTC are both 01:30 local. */
    assert_int_equal(ep_time_parse_rfc3339("2026-11-01T05:30:00Z", &t), EP_OK);
    ep_local_time_of(t, &local);
    assert_int_equal(local.seconds, 1 * 3600 + 30 * 60);
    assert_int_equal(ep_time_parse_rfc3339("2026-11-01T06:30:00Z", &t), EP_OK);
    ep_local_time_of(t, &local);
    assert_int_equal(local.seconds, 1 * 3600 + 30 * 60);
    assert_int_equal(ep_tz_apply("Asia/Jakarta", NULL), EP_OK);
}

static void test_dates_and_clocks(void **state)
{
    int32_t d = 0;
    int32_t s = 0;
    char text[EP_DATE_TEXT_MAX];
    char clock[EP_CLOCK_TEXT_MAX];

    (void)state;
    assert_int_equal(ep_date_parse("2026-01-30", &d), EP_OK);
    assert_int_equal(ep_date_weekday(d), 4);
    ep_date_format(d + 2, text);
    assert_string_equal(text, "2026-02-01");
    assert_int_equal(ep_date_parse("2026-13-01", &d), EP_ERR_INVALID);
    assert_int_equal(ep_date_parse("2026-1-01", &d), EP_ERR_INVALID);
    assert_int_equal(ep_clock_parse("22:00:00", &s), EP_OK);
    assert_int_equal(s, 22 * 3600);
    assert_int_equal(ep_clock_parse("02:00", &s), EP_OK);
    assert_int_equal(s, 2 * 3600);
    assert_int_equal(ep_clock_parse("24:00:00", &s), EP_ERR_INVALID);
    ep_clock_format(23 * 3600 + 59 * 60 + 59, clock);
    assert_string_equal(clock, "23:59:59");
}

static void test_zone_names(void **state)
{
    struct ep_error err;

    (void)state;
    ep_error_clear(&err);
    assert_true(ep_tz_is_known("Asia/Jakarta"));
    assert_false(ep_tz_is_known("Asia/Atlantis"));
    assert_false(ep_tz_is_known("../../etc/passwd"));
    assert_int_equal(ep_tz_apply("Mars/Olympus", &err), EP_ERR_CONFIG);
    assert_string_equal(err.field, "timezone");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_jakarta_late_evening),
        cmocka_unit_test(test_new_york_dst),
        cmocka_unit_test(test_dates_and_clocks),
        cmocka_unit_test(test_zone_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
