/*
 * test_ops_logs.c - logs for journald, and never a secret in them.
 *
 * Every command of the table and every route of the API run with known
 * terminal tokens, a known CMS token and customers' phone numbers in the
 * carts (and in paths, query strings and Authorization headers where they
 * do not belong), at log_level = debug; then all their stderr and the
 * server's log together must not hold any of those strings, while the
 * CMS did receive its token (so it was in play). Every log line is one
 * key=value event line. A log_level from the config is obeyed.
 *
 * test-ops-log-audit (log_audit.sh) then does the same over every log line
 * of the whole ctest run.
 */
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

#define TERMINAL_TOKEN  "ops-log-terminal-secret-a1b2c3"
#define TERMINAL_TOKEN2 "ops-log-terminal-secret-d4e5f6"
#define CMS_TOKEN       "ops-log-cms-secret-778899aabb"
#define PHONE           "+6281298765432"
#define PHONE2          "081311112222"
#define BEARER          "Bearer " TERMINAL_TOKEN
#define BEARER2         "Bearer " TERMINAL_TOKEN2
#define INCREMENTAL     "{\"updated\":[],\"deleted\":[],\"sync_token\":\"t-9\"}"

/* What must never be logged; digits alone catch a reformatted phone. */
static const char *const secrets[] = {
    TERMINAL_TOKEN, TERMINAL_TOKEN2, CMS_TOKEN, "6281298765432", "81311112222",
};

struct logs_env {
    struct ops_env ops;   /* the store */
    struct fake_cms *cms; /* its CMS */
    char *logs;           /* every stderr so far, malloc'd */
};

static void collect(struct logs_env *env, const char *text)
{
    size_t have = env->logs ? strlen(env->logs) : 0;

    if (text == NULL)
        return;
    env->logs = realloc(env->logs, have + strlen(text) + 1);
    memcpy(env->logs + have, text, strlen(text) + 1);
}

/* Runs a command; its stderr joins the logs. Returns the exit status. */
static int run(struct logs_env *env, const char *args, char **out)
{
    char *err = NULL;
    int rc = ops_cli(&env->ops, args, out, &err);

    collect(env, err);
    free(err);
    return rc;
}

/* A cart of the example store with a customer's phone. */
static void cart(char *out, size_t size, const char *txid, const char *phone)
{
    snprintf(out, size,
             "{\"brand_id\":\"4b4c6546-159b-4cd0-96d4-50a763ba12df\","
             "\"transaction_id\":\"%s\",\"customer\":{\"id\":\"cust-77\","
             "\"phone\":\"%s\",\"is_member\":true,\"member_tier\":\"gold\"},"
             "\"payment\":{\"method\":\"qris\"},\"lines\":[{\"line_id\":\"1\","
             "\"product_id\":\"c0ffee00-0000-4000-8000-000000000001\","
             "\"category_id\":\"ca7e0000-0000-4000-8000-000000000101\","
             "\"quantity\":2,\"unit_price\":25000}]}",
             txid, phone);
}

static void write_data(const struct logs_env *env)
{
    char path[700];
    char text[2048];
    char batch[4096];

    snprintf(path, sizeof(path), "%s/cart.json", env->ops.dir);
    cart(text, sizeof(text), "cli-1", PHONE);
    assert_true(test_write_file(path, text));
    cart(batch, sizeof(batch), "cli-2", PHONE2);
    strcat(batch, "\n");
    cart(text, sizeof(text), "cli-3", PHONE);
    strcat(batch, text);
    strcat(batch, "\n");
    snprintf(path, sizeof(path), "%s/batch.jsonl", env->ops.dir);
    assert_true(test_write_file(path, batch));
    snprintf(path, sizeof(path), "%s/bad.json", env->ops.dir);
    cart(text, sizeof(text), "cli-4", PHONE "0000000000000000");
    assert_true(test_write_file(path, text));
    snprintf(path, sizeof(path), "%s/holidays.csv", env->ops.dir);
    assert_true(test_write_file(path, "date,name\n2026-12-25,Natal\n"));
}

static int setup(void **state)
{
    struct logs_env *env = calloc(1, sizeof(*env));
    char path[1024];
    char extra[512];

    env->cms = fake_cms_start();
    assert_non_null(env->cms);
    test_source_path("examples/full_sync.json", path, sizeof(path));
    assert_true(fake_cms_load_files(env->cms, path, NULL));
    fake_cms_set_incremental(env->cms, INCREMENTAL, strlen(INCREMENTAL));
    snprintf(extra, sizeof(extra),
             "api_tokens = %s, %s\ncms_url = %s\ncms_token = %s\n"
             "log_level = debug\n",
             TERMINAL_TOKEN, TERMINAL_TOKEN2, fake_cms_url(env->cms),
             CMS_TOKEN);
    ops_env_init(&env->ops, extra);
    write_data(env);
    *state = env;
    return 0;
}

static int teardown(void **state)
{
    struct logs_env *env = *state;

    ops_env_free(&env->ops);
    fake_cms_stop(env->cms);
    free(env->logs);
    free(env);
    return 0;
}

/* Every command of the table, the failing ones included ("%s": dir). */
static void run_commands(struct logs_env *env)
{
    static const char *const ok[] = {
        "init",
        "migrate",
        "sync --full",
        "sync --incremental",
        "sync --from examples/full_sync.json",
        "promotions",
        "promotions --active",
        "promotions --code KOPI10",
        "stats",
        "stats --days 3",
        "evaluate '%s/cart.json'",
        "evaluate '%s/batch.jsonl'",
        "commit '%s/cart.json'",
        "commit '%s/cart.json'",
        "void cli-1",
        "holidays import '%s/holidays.csv'",
        "backup '%s/backup.db'",
        "restore '%s/backup.db'",
        "demo --no-serve",
        "evaluate '%s/bad.json'",
    };
    static const char *const failing[] = {
        "commit '%s/bad.json'",  "void no-such-txid",      "no-such-command",
        "backup '%s/backup.db'", "restore '%s/cart.json'",
    };
    char args[900];
    char *out = NULL;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(args, sizeof(args), ok[i], env->ops.dir);
        if (run(env, args, NULL) != 0)
            fail_msg("edgepromo %s failed", args);
    }
    for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
        snprintf(args, sizeof(args), failing[i], env->ops.dir);
        if (run(env, args, NULL) == 0)
            fail_msg("edgepromo %s succeeded", args);
    }
    assert_int_equal(run(env, "config", &out), 0);
    for (size_t i = 0; i < 3; i++)
        assert_null(strstr(out, secrets[i]));
    free(out);
    fake_cms_set_mode(env->cms, FAKE_CMS_STATUS, 401);
    assert_int_not_equal(run(env, "sync --full", NULL), 0);
    fake_cms_set_mode(env->cms, FAKE_CMS_OK, 0);
}

/* Every route, and requests that put secrets where they do not belong. */
static void run_routes(struct logs_env *env)
{
    char body[2048];
    char path[256];

    cart(body, sizeof(body), "http-1", PHONE);
    assert_int_equal(
        ops_http(&env->ops, "POST", "/v1/cart/evaluate", BEARER, body, NULL),
        200);
    assert_int_equal(
        ops_http(&env->ops, "POST", "/v1/transactions", BEARER2, body, NULL),
        200);
    cart(body, sizeof(body), "http-2", PHONE2);
    assert_int_equal(
        ops_http(&env->ops, "POST", "/v1/transactions", BEARER, body, NULL),
        200);
    assert_int_equal(ops_http(&env->ops, "POST", "/v1/transactions/http-1/void",
                              BEARER, NULL, NULL),
                     200);
    static const char *const gets[] = {
        "/v1/promotions/active",
        "/v1/promotions?type=bundle",
        "/v1/promotions/KOPI10",
        "/v1/usage/d15c0000-0000-4000-8000-000000000001?customer_id=cust-77",
        "/v1/sync/last",
        "/v1/sync/stats?days=2",
        "/healthz",
        "/metrics",
        "/readyz",
    };
    for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++)
        assert_int_equal(
            ops_http(&env->ops, "GET", gets[i],
                     strncmp(gets[i], "/v1", 3) == 0 ? BEARER : NULL, NULL,
                     NULL),
            200);
    assert_int_equal(ops_http(&env->ops, "GET", "/status",
                              "staff:" TERMINAL_TOKEN, NULL, NULL),
                     200);
    assert_int_equal(
        ops_http(&env->ops, "GET", "/status", "staff:" PHONE, NULL, NULL), 401);
    assert_int_equal(ops_http(&env->ops, "POST", "/v1/sync", BEARER,
                              "{\"type\":\"full\"}", NULL),
                     202);
    assert_int_equal(ops_http(&env->ops, "GET", "/v1/promotions",
                              "Bearer " PHONE, NULL, NULL),
                     401);
    snprintf(path, sizeof(path), "/v1/usage/%s?customer_id=%s", PHONE2, PHONE2);
    assert_int_equal(ops_http(&env->ops, "GET", path, BEARER, NULL, NULL), 404);
    assert_int_equal(
        ops_http(&env->ops, "GET", "/v1/nothing/" PHONE2, BEARER, NULL, NULL),
        404);
    assert_int_equal(ops_http(&env->ops, "POST", "/v1/cart/evaluate", BEARER,
                              "{\"customer\":{\"phone\":\"" PHONE "\"}", NULL),
                     400);
}

/* Each log line is "ts=... level=... event=... key=value...". */
static void check_lines(const char *logs, size_t *events_out)
{
    char *copy = strdup(logs);
    char *save = NULL;
    size_t events = 0;

    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "ts=", 3) != 0)
            continue;
        if (strstr(line, " level=") == NULL || strstr(line, " event=") == NULL)
            fail_msg("not an event line: %s", line);
        events++;
    }
    free(copy);
    *events_out = events;
}

static void test_no_secret_in_any_log_line(void **state)
{
    struct logs_env *env = *state;
    char *serve_log;
    size_t events = 0;
    struct fake_cms_request request;
    bool token_sent = false;

    run_commands(env);
    ops_serve_start(&env->ops);
    run_routes(env);
    usleep(300 * 1000);
    assert_int_equal(ops_serve_stop(&env->ops), 0);
    serve_log = test_read_file(env->ops.log, NULL);
    collect(env, serve_log);
    free(serve_log);
    for (size_t i = 0; i < fake_cms_request_count(env->cms); i++)
        token_sent |= fake_cms_request_get(env->cms, i, &request) &&
                      request.authorization != NULL &&
                      strstr(request.authorization, CMS_TOKEN) != NULL;
    assert_true(token_sent);
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        const char *hit = strstr(env->logs, secrets[i]);
        if (hit != NULL)
            fail_msg("'%s' is in the log: ...%.200s", secrets[i],
                     hit > env->logs + 100 ? hit - 100 : env->logs);
    }
    check_lines(env->logs, &events);
    fprintf(stderr, "log lines checked: %zu events\n", events);
    assert_true(events > 30);
    assert_non_null(strstr(env->logs, "event=http.request"));
    assert_non_null(strstr(env->logs, "event=sync.done"));
    assert_non_null(strstr(env->logs, "event=backup.done"));
    assert_non_null(strstr(env->logs, "event=restore.done"));
}

static void test_log_level_comes_from_config(void **state)
{
    struct logs_env *env = *state;
    char *err = NULL;

    assert_int_equal(ops_cli(&env->ops,
                             "--log-level warn sync --from "
                             "examples/full_sync.json",
                             NULL, &err),
                     0);
    assert_null(strstr(err, "level=info"));
    free(err);
    assert_true(ops_append_file(env->ops.config, "log_level = off\n"));
    assert_int_equal(ops_cli(&env->ops, "sync --full", NULL, &err), 0);
    assert_null(strstr(err, "event="));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_secret_in_any_log_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_level_comes_from_config, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
