/*
 * test_cli_config.c - configuration through the real binary: each bad
 * value, from the environment or from a file, exits 2 with a message
 * naming the key and the expected form; good values are reported with
 * their source and secrets masked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "support.h"

struct bad_value {
    const char *key;
    const char *value;
    const char *expected; /* words the message must hold */
};

static const struct bad_value bad_values[] = {
    { "db", "mysql://x", "postgresql://" },
    { "company_id", "has spaces", "letters, digits" },
    { "store_id", "0123456789012345678901234567890123456789", "36" },
    { "timezone", "Mars/Olympus", "IANA" },
    { "cms_url", "ftp://cms", "http://" },
    { "listen", "8080", "address:port" },
    { "listen", "0.0.0.0:70000", "address:port" },
    { "api_tokens", "short", "16 characters" },
    { "log_level", "loud", "debug, info" },
    { "usage_synchronous", "OFF", "FULL or NORMAL" },
    { "sync_interval", "0", "whole number" },
    { "sync_interval", "5m", "whole number" },
    { "full_sync_interval", "-1", "whole number" },
    { "request_timeout", "99999", "from 1 to 3600" },
    { "threads", "many", "whole number" },
    { "max_body_bytes", "10", "from 1024" },
};

static int run_config(const char *env, const char *args, char **out, char **err)
{
    char command[2048];

    snprintf(command, sizeof(command), "env -i PATH=/usr/bin:/bin %s '%s' %s",
             env, test_binary(), args);
    return test_run(command, out, err);
}

static void test_bad_environment_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        const struct bad_value *b = &bad_values[i];
        char env[512];
        char upper[64];
        char *err = NULL;
        size_t k;
        for (k = 0; b->key[k] != '\0' && k < sizeof(upper) - 1; k++)
            upper[k] =
                (char)(b->key[k] >= 'a' && b->key[k] <= 'z' ? b->key[k] - 32
                                                            : b->key[k]);
        upper[k] = '\0';
        snprintf(env, sizeof(env), "'EDGEPROMO_%s=%s'", upper, b->value);
        assert_int_equal(run_config(env, "config", NULL, &err), 2);
        if (strstr(err, b->key) == NULL || strstr(err, b->expected) == NULL)
            fail_msg("%s=%s: message '%s' lacks '%s' or '%s'", b->key, b->value,
                     err, b->key, b->expected);
        free(err);
    }
}

static void test_bad_file_lines(void **state)
{
    char dir[512];
    char path[600];
    char args[700];
    char *err = NULL;

    (void)state;
    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/edgepromo.conf", dir);
    snprintf(args, sizeof(args), "--config '%s' config", path);
    assert_true(test_write_file(path, "# store\nstore_id = S1\n"
                                      "colour = blue\n"));
    assert_int_equal(run_config("", args, NULL, &err), 2);
    assert_non_null(strstr(err, ":3:"));
    assert_non_null(strstr(err, "colour"));
    free(err);
    assert_true(test_write_file(path, "store_id S1\n"));
    assert_int_equal(run_config("", args, NULL, &err), 2);
    assert_non_null(strstr(err, "key = value"));
    free(err);
    assert_true(test_write_file(path, "timezone = Asia/Jakartaa\n"));
    assert_int_equal(run_config("", args, NULL, &err), 2);
    assert_non_null(strstr(err, "timezone"));
    free(err);
    snprintf(args, sizeof(args), "--config '%s/missing.conf' config", dir);
    assert_int_equal(run_config("", args, NULL, &err), 2);
    assert_non_null(strstr(err, "missing.conf"));
    free(err);
    test_rmdir(dir);
}

static void test_sources_and_masking(void **state)
{
    char dir[512];
    char path[600];
    char args[700];
    char *out = NULL;
    json_t *root;

    (void)state;
    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/edgepromo.conf", dir);
    assert_true(test_write_file(path, "store_id = S1\nsync_interval = 60\n"
                                      "api_tokens = abcdefghijklmnop1234\n"));
    snprintf(args, sizeof(args), "--config '%s' --db '%s/x.db' config", path,
             dir);
    assert_int_equal(
        run_config("EDGEPROMO_SYNC_INTERVAL=120", args, &out, NULL), 0);
    root = json_loads(out, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(root, "store_id"), "value")),
                        "S1");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(root, "sync_interval"), "value")),
                     120);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(root, "sync_interval"), "source")),
                        "env");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(root, "db"), "source")),
                        "flag");
    assert_null(strstr(out, "abcdefghijklmnop1234"));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(root, "api_tokens"), "value")),
                        "********");
    json_decref(root);
    free(out);
    test_rmdir(dir);
}

static void test_usage_errors_exit_2(void **state)
{
    char *err = NULL;

    (void)state;
    assert_int_equal(run_config("", "no-such-command", NULL, &err), 2);
    assert_non_null(strstr(err, "unknown command"));
    free(err);
    assert_int_equal(run_config("", "", NULL, &err), 2);
    free(err);
    assert_int_equal(run_config("", "--version", NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_environment_values),
        cmocka_unit_test(test_bad_file_lines),
        cmocka_unit_test(test_sources_and_masking),
        cmocka_unit_test(test_usage_errors_exit_2),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
