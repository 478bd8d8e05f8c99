/*
 * test_ops_docs.c - docs/operations.md keeps up with the program: every
 * config key `edgepromo config` knows has a row, and every metric a
 * running server exports (with a CMS configured, after a sync, so that
 * every gauge is there) has a row with its meaning and a suggested alert.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_cms.h"
#include "ops.h"
#include "support.h"

static char *read_doc(void)
{
    char path[1024];
    char *doc;

    test_source_path("docs/operations.md", path, sizeof(path));
    doc = test_read_file(path, NULL);
    assert_non_null(doc);
    return doc;
}

static void test_every_config_key_has_a_row(void **state)
{
    struct ops_env env;
    char *doc = read_doc();
    char *out = NULL;
    char row[128];
    const char *key;
    json_t *value;
    json_t *config;

    (void)state;
    ops_env_init(&env, NULL);
    assert_int_equal(ops_cli(&env, "config", &out, NULL), 0);
    config = json_loads(out, 0, NULL);
    assert_non_null(config);
    json_object_foreach(config, key, value)
    {
        snprintf(row, sizeof(row), "| `%s` |", key);
        if (strstr(doc, row) == NULL)
            fail_msg("docs/operations.md has no row for config key %s", key);
    }
    assert_true(json_object_size(config) >= 17);
    json_decref(config);
    free(out);
    free(doc);
    ops_env_free(&env);
}

/* Waits until the server has a good sync on record. */
static void wait_synced(const struct ops_env *env)
{
    for (int waited = 0; waited < 20000; waited += 50) {
        char *reply = NULL;
        long code = ops_http(env, "GET", "/readyz", NULL, NULL, &reply);
        bool synced = code == 200 && strstr(reply, "\"last_good_sync\":{");
        free(reply);
        if (synced)
            return;
        usleep(50 * 1000);
    }
    fail_msg("no good sync in 20 s");
}

static void test_every_metric_has_a_row(void **state)
{
    struct ops_env env;
    struct fake_cms *cms = fake_cms_start();
    char *doc = read_doc();
    char *metrics = NULL;
    char path[1024];
    char extra[256];
    char *save = NULL;
    size_t count = 0;

    (void)state;
    test_source_path("examples/full_sync.json", path, sizeof(path));
    assert_true(fake_cms_load_files(cms, path, NULL));
    snprintf(extra, sizeof(extra), "cms_url = %s\n", fake_cms_url(cms));
    ops_env_init(&env, extra);
    ops_serve_start(&env);
    wait_synced(&env);
    assert_int_equal(ops_http(&env, "GET", "/metrics", NULL, NULL, &metrics),
                     200);
    for (char *line = strtok_r(metrics, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char name[128];
        char cell[140];
        if (sscanf(line, "# TYPE %127s", name) != 1)
            continue;
        snprintf(cell, sizeof(cell), "| `%s", name);
        if (strstr(doc, cell) == NULL)
            fail_msg("docs/operations.md has no row for metric %s", name);
        count++;
    }
    assert_true(count >= 16);
    free(metrics);
    free(doc);
    ops_env_free(&env);
    fake_cms_stop(cms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_config_key_has_a_row),
        cmocka_unit_test(test_every_metric_has_a_row),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
