/*
 * test_money.c - exact money: JSON amounts to hundredths, decimal text,
 * formatting, half-up percents and largest-remainder allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/money.h"

static enum ep_status money_of(const char *json, int64_t *out,
                               struct ep_error *err)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    enum ep_status status;

    assert_non_null(v);
    ep_error_clear(err);
    status = ep_money_from_json(v, "unit_price", out, err);
    json_decref(v);
    return status;
}

static void test_json_amounts(void **state)
{
    struct ep_error err;
    int64_t v = -1;

    (void)state;
    assert_int_equal(money_of("25000", &v, &err), EP_OK);
    assert_int_equal(v, 2500000);
    assert_int_equal(money_of("12.5", &v, &err), EP_OK);
    assert_int_equal(v, 1250);
    assert_int_equal(money_of("12.35", &v, &err), EP_OK);
    assert_int_equal(v, 1235);
    assert_int_equal(money_of("0.01", &v, &err), EP_OK);
    assert_int_equal(v, 1);
    assert_int_equal(money_of("9999999999.99", &v, &err), EP_OK);
    assert_int_equal(v, 999999999999);
    assert_int_equal(money_of("0", &v, &err), EP_OK);
    assert_int_equal(v, 0);
}

static void test_json_amounts_rejected(void **state)
{
    struct ep_error err;
    int64_t v = 7;

    (void)state;
    assert_int_equal(money_of("12.345", &v, &err), EP_ERR_INVALID);
    assert_string_equal(err.field, "unit_price");
    assert_non_null(strstr(err.message, "at most 2 decimals"));
    assert_int_equal(money_of("-1", &v, &err), EP_ERR_INVALID);
    assert_non_null(strstr(err.message, "negative"));
    assert_int_equal(money_of("\"100\"", &v, &err), EP_ERR_INVALID);
    assert_non_null(strstr(err.message, "must be a number"));
    assert_int_equal(money_of("1e20", &v, &err), EP_ERR_INVALID);
    assert_int_equal(money_of("0.001", &v, &err), EP_ERR_INVALID);
    assert_int_equal(v, 7);
}

static void test_percent(void **state)
{
    json_t *v = json_real(17.5);
    int32_t p = 0;
    struct ep_error err;

    (void)state;
    ep_error_clear(&err);
    assert_int_equal(ep_percent_from_json(v, "p", &p, &err), EP_OK);
    assert_int_equal(p, 1750);
    json_decref(v);
    v = json_integer(0);
    assert_int_equal(ep_percent_from_json(v, "p", &p, &err), EP_ERR_INVALID);
    json_decref(v);
    v = json_real(100.01);
    assert_int_equal(ep_percent_from_json(v, "p", &p, NULL), EP_ERR_INVALID);
    json_decref(v);
}

static void test_text(void **state)
{
    int64_t v = 0;
    char out[EP_MONEY_TEXT_MAX];

    (void)state;
    assert_int_equal(ep_money_parse_text("12.5", &v), EP_OK);
    assert_int_equal(v, 1250);
    assert_int_equal(ep_money_parse_text("100.00", &v), EP_OK);
    assert_int_equal(v, 10000);
    assert_int_equal(ep_money_parse_text("-3.05", &v), EP_OK);
    assert_int_equal(v, -305);
    assert_int_equal(ep_money_parse_text("1.234", &v), EP_ERR_INVALID);
    assert_int_equal(ep_money_parse_text("abc", &v), EP_ERR_INVALID);
    ep_money_format(1250, out);
    assert_string_equal(out, "12.5");
    ep_money_format(2500000, out);
    assert_string_equal(out, "25000");
    ep_money_format(5, out);
    assert_string_equal(out, "0.05");
    ep_money_format(-305, out);
    assert_string_equal(out, "-3.05");
    ep_money_format_fixed(1250, out);
    assert_string_equal(out, "12.50");
    ep_money_format_display(10000000, out);
    assert_string_equal(out, "Rp 100.000");
    ep_money_format_display(123456789, out);
    assert_string_equal(out, "Rp 1.234.567,89");
}

static void test_percent_rounds_half_up(void **state)
{
    (void)state;
    /* 10% of 0.05 is 0.005 -> 0.01; 10% of 0.04 is 0.004 -> 0.00. */
    assert_int_equal(ep_money_percent_of(5, 1000), 1);
    assert_int_equal(ep_money_percent_of(4, 1000), 0);
    /* 17.5% of 333.33 = 58.33275 -> 58.33. */
    assert_int_equal(ep_money_percent_of(33333, 1750), 5833);
    assert_int_equal(ep_money_percent_of(EP_MONEY_MAX, 10000), EP_MONEY_MAX);
}

static void test_allocation_sums_and_ties(void **state)
{
    int64_t weights[3] = { 100, 100, 100 };
    int64_t parts[3];
    struct ep_money_share scratch[3];

    (void)state;
    /* 1.00 over three equal lines: 0.34, 0.33, 0.33 (tie: earlier line). */
    ep_money_allocate(100, weights, 3, parts, scratch);
    assert_int_equal(parts[0], 34);
    assert_int_equal(parts[1], 33);
    assert_int_equal(parts[2], 33);
    /* Remainders 1/3 each for 2 of 3; ties go to the larger weight. */
    weights[0] = 1;
    weights[1] = 2;
    weights[2] = 3;
    ep_money_allocate(5, weights, 3, parts, scratch);
    /* 5*1/6=0.83, 5*2/6=1.67, 5*3/6=2.5 -> 0,1,2 + 2 more: .83 then .67 */
    assert_int_equal(parts[0], 1);
    assert_int_equal(parts[1], 2);
    assert_int_equal(parts[2], 2);
    assert_int_equal(parts[0] + parts[1] + parts[2], 5);
    /* All weights zero count as equal. */
    weights[0] = weights[1] = weights[2] = 0;
    ep_money_allocate(2, weights, 3, parts, scratch);
    assert_int_equal(parts[0] + parts[1] + parts[2], 2);
    assert_int_equal(parts[2], 0);
}

static void test_allocation_large_amounts(void **state)
{
    int64_t weights[2] = { EP_MONEY_MAX / 2, EP_MONEY_MAX / 2 - 1 };
    int64_t parts[2];
    struct ep_money_share scratch[2];

    (void)state;
    ep_money_allocate(EP_MONEY_MAX - 1, weights, 2, parts, scratch);
    assert_int_equal(parts[0] + parts[1], EP_MONEY_MAX - 1);
    assert_true(parts[0] >= parts[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_amounts),
        cmocka_unit_test(test_json_amounts_rejected),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_percent_rounds_half_up),
        cmocka_unit_test(test_allocation_sums_and_ties),
        cmocka_unit_test(test_allocation_large_amounts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
