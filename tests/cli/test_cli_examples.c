/*
 * test_cli_examples.c - the example store through the real binary, as the
 * README uses it: load examples/full_sync.json into a fresh database, then
 * every example cart gives the result worked out by hand in
 * examples/README.md (examples/expected/), one cart at a time and as one
 * JSON Lines batch; a checkout is recorded once and a void gives it back.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"

struct example_env {
    char dir[512];
    char config[600];
};

static int edgepromo(const struct example_env *env, const char *args,
                     char **out, char **err)
{
    char command[4096];

    snprintf(command, sizeof(command),
             "cd '%s' && env -i PATH=/usr/bin:/bin "
             "'%s' --config '%s' %s",
             test_source_dir(), test_binary(), env->config, args);
    return test_run(command, out, err);
}

static int setup(void **state)
{
    struct example_env *env = calloc(1, sizeof(*env));
    char source[1024];
    char *text;
    char *conf;

    test_tmpdir(env->dir, sizeof(env->dir));
    snprintf(env->config, sizeof(env->config), "%s/edgepromo.conf", env->dir);
    test_source_path("examples/edgepromo.conf", source, sizeof(source));
    text = test_read_file(source, NULL);
    assert_non_null(text);
    conf = malloc(strlen(text) + 1024);
    sprintf(conf, "%s\ndb = %s/edge.db\n", text, env->dir);
    assert_true(test_write_file(env->config, conf));
    free(conf);
    free(text);
    assert_int_equal(
        edgepromo(env, "sync --from examples/full_sync.json", NULL, NULL), 0);
    *state = env;
    return 0;
}

static int teardown(void **state)
{
    struct example_env *env = *state;

    test_rmdir(env->dir);
    free(env);
    return 0;
}

/* The example carts, sorted by name; returns how many. */
static size_t example_names(char names[][128], size_t max)
{
    char dir[1024];
    struct dirent *e;
    DIR *d;
    size_t n = 0;

    test_source_path("examples/carts", dir, sizeof(dir));
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL && n < max) {
        if (strstr(e->d_name, ".json") != NULL)
            snprintf(names[n++], 128, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, 128, (int (*)(const void *, const void *))strcmp);
    return n;
}

static json_t *expected_for(const char *name)
{
    char path[1024];
    char relative[256];

    snprintf(relative, sizeof(relative), "examples/expected/%s", name);
    test_source_path(relative, path, sizeof(path));
    return json_load_file(path, 0, NULL);
}

static void test_each_cart_matches_hand_result(void **state)
{
    struct example_env *env = *state;
    char names[32][128];
    size_t n = example_names(names, 32);

    assert_true(n >= 6);
    for (size_t i = 0; i < n; i++) {
        char args[512];
        char *out = NULL;
        json_t *got;
        json_t *want = expected_for(names[i]);
        snprintf(args, sizeof(args), "evaluate examples/carts/%s", names[i]);
        assert_int_equal(edgepromo(env, args, &out, NULL), 0);
        got = json_loads(out, 0, NULL);
        assert_non_null(got);
        assert_non_null(want);
        if (!test_json_subset(want, got, names[i]))
            fail_msg("%s differs from examples/expected", names[i]);
        json_decref(got);
        json_decref(want);
        free(out);
    }
}

static void test_batch_gives_one_response_a_line(void **state)
{
    struct example_env *env = *state;
    char names[32][128];
    size_t n = example_names(names, 32);
    char batch[600];
    char args[700];
    char *out = NULL;
    size_t lines = 0;
    char *line;
    char *save = NULL;
    FILE *f;

    snprintf(batch, sizeof(batch), "%s/carts.jsonl", env->dir);
    f = fopen(batch, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        char relative[256];
        json_t *cart;
        snprintf(relative, sizeof(relative), "examples/carts/%s", names[i]);
        test_source_path(relative, path, sizeof(path));
        cart = json_load_file(path, 0, NULL);
        assert_int_equal(json_dumpf(cart, f, JSON_COMPACT), 0);
        fputc('\n', f);
        json_decref(cart);
    }
    fclose(f);
    snprintf(args, sizeof(args), "evaluate '%s'", batch);
    assert_int_equal(edgepromo(env, args, &out, NULL), 0);
    for (line = strtok_r(out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *got = json_loads(line, 0, NULL);
        json_t *want = expected_for(names[lines]);
        assert_true(test_json_subset(want, got, names[lines]));
        json_decref(got);
        json_decref(want);
        lines++;
    }
    assert_int_equal(lines, n);
    free(out);
}

static void test_commit_once_and_void(void **state)
{
    struct example_env *env = *state;
    char *first = NULL;
    char *again = NULL;
    char *voided = NULL;
    char *err = NULL;

    assert_int_equal(edgepromo(env, "commit examples/carts/01_kopi_diskon.json",
                               &first, NULL),
                     0);
    assert_non_null(strstr(first, "\"committed\":true"));
    assert_int_equal(edgepromo(env, "commit examples/carts/01_kopi_diskon.json",
                               &again, NULL),
                     0);
    assert_string_equal(first, again);
    assert_int_equal(edgepromo(env, "void demo-01-kopi-diskon", &voided, NULL),
                     0);
    assert_non_null(strstr(voided, "\"voided\":true"));
    assert_int_equal(edgepromo(env, "void no-such-transaction", NULL, &err), 2);
    assert_non_null(strstr(err, "not known"));
    free(first);
    free(again);
    free(voided);
    free(err);
}

static void test_bad_cart_line_exits_2(void **state)
{
    struct example_env *env = *state;
    char *out = NULL;
    char *err = NULL;

    assert_int_equal(edgepromo(env,
                               "evaluate - <<'EOF'\n{\"brand_id\":\"b\","
                               "\"lines\":[{\"line_id\":\"1\",\"product_id\":"
                               "\"p\",\"quantity\":0,\"unit_price\":1}]}\nEOF",
                               &out, &err),
                     2);
    assert_non_null(strstr(out, "\"field\":\"lines[0].quantity\""));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_cart_matches_hand_result),
        cmocka_unit_test(test_batch_gives_one_response_a_line),
        cmocka_unit_test(test_commit_once_and_void),
        cmocka_unit_test(test_bad_cart_line_exits_2),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
