/*
 * test_ops_status.c - GET /status in a real browser: Debian's chromium,
 * headless, against the real `edgepromo serve` with the example store
 * synced from a fake CMS.
 *
 * With the CMS up, the page (the DOM chromium built) shows a good sync and
 * the promotions in force now, one of them named with markup that must
 * come out as text. With the CMS answering 500, a sync run later the page
 * shows the failed sync and its cause. A screenshot of each state at
 * tablet width (800 px) is kept in tests/artifacts/. Without the password,
 * or with a wrong one, the answer is 401 with WWW-Authenticate.
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
#include <curl/curl.h>

#include "fake_cms.h"
#include "ops.h"
#include "support.h"

#define BEARER      "Bearer " OPS_TOKEN
#define CMS_TOKEN   "cms-token-for-status-test-5d1e"
#define CHROMIUM    "/usr/bin/chromium"
#define WAIT_MS     20000
#define HOSTILE     "Kopi <script>alert(1)</script> & \"Teh\""
#define INCREMENTAL "{\"updated\":[],\"deleted\":[],\"sync_token\":\"t-2\"}"

struct status_env {
    struct ops_env ops;   /* the store and its server */
    struct fake_cms *cms; /* the CMS it syncs from */
};

/* The example store's full sync, with KOPI10 renamed to HOSTILE. */
static char *hostile_full_body(void)
{
    char path[1024];
    json_t *root;
    json_t *promotions;
    char *text;

    test_source_path("examples/full_sync.json", path, sizeof(path));
    root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    promotions = json_object_get(json_object_iter_value(json_object_iter(root)),
                                 "promotions");
    json_object_set_new(json_array_get(promotions, 0), "name",
                        json_string(HOSTILE));
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

/* Waits until GET /v1/sync/last shows want as the newest run's status. */
static void wait_sync(const struct ops_env *env, const char *want)
{
    char needle[64];

    snprintf(needle, sizeof(needle), "\"sync_status\":\"%s\"", want);
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        char *reply = NULL;
        long code = ops_http(env, "GET", "/v1/sync/last", BEARER, NULL, &reply);
        bool done = code == 200 && strstr(reply, needle) != NULL;
        free(reply);
        if (done)
            return;
        usleep(50 * 1000);
    }
    fail_msg("no sync ended '%s' in %d ms", want, WAIT_MS);
}

static int setup(void **state)
{
    struct status_env *env = calloc(1, sizeof(*env));
    char extra[512];
    char *body = hostile_full_body();

    assert_int_equal(access(CHROMIUM, X_OK), 0);
    env->cms = fake_cms_start();
    assert_non_null(env->cms);
    fake_cms_set_full(env->cms, body, strlen(body));
    fake_cms_set_incremental(env->cms, INCREMENTAL, strlen(INCREMENTAL));
    free(body);
    snprintf(extra, sizeof(extra),
             "cms_url = %s\ncms_token = %s\nsync_interval = 300\n",
             fake_cms_url(env->cms), CMS_TOKEN);
    ops_env_init(&env->ops, extra);
    ops_serve_start(&env->ops);
    wait_sync(&env->ops, "success");
    *state = env;
    return 0;
}

static int teardown(void **state)
{
    struct status_env *env = *state;

    assert_int_equal(ops_serve_stop(&env->ops), 0);
    ops_env_free(&env->ops);
    fake_cms_stop(env->cms);
    free(env);
    return 0;
}

/* Runs headless chromium on the status page with what (a flag). */
static char *chromium(const struct ops_env *env, const char *what)
{
    char profile[512];
    char command[2048];
    char *out = NULL;
    char *err = NULL;
    int rc;

    test_tmpdir(profile, sizeof(profile));
    snprintf(command, sizeof(command),
             "timeout 90 " CHROMIUM " --headless --no-sandbox --disable-gpu "
             "--disable-quic --no-first-run --disable-background-networking "
             "--disable-component-update --disable-sync "
             "--user-data-dir='%s' --window-size=800,1280 %s "
             "'http://staff:%s@127.0.0.1:%u/status'",
             profile, what, OPS_TOKEN, env->port);
    rc = test_run(command, &out, &err);
    if (rc != 0)
        fail_msg("chromium exited %d: %s", rc, err);
    free(err);
    test_rmdir(profile);
    return out;
}

/* Takes a screenshot at tablet width; checks it is an 800 px PNG. */
static void screenshot(const struct ops_env *env, const char *name)
{
    char path[1200];
    char flag[1300];
    unsigned char *png;
    size_t len = 0;

    ops_artifact_path(name, path, sizeof(path));
    remove(path);
    snprintf(flag, sizeof(flag), "--screenshot='%s'", path);
    free(chromium(env, flag));
    png = (unsigned char *)test_read_file(path, &len);
    assert_non_null(png);
    assert_true(len > 10000);
    assert_memory_equal(png, "\x89PNG", 4);
    assert_int_equal(
        (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19], 800);
    fprintf(stderr, "screenshot: %s\n", path);
    free(png);
}

static void assert_has(const char *dom, const char *want)
{
    if (strstr(dom, want) == NULL)
        fail_msg("the page lacks '%s'", want);
}

/*
 * Every promotion GET /v1/promotions/active names is on the page, by code;
 * returns how many. (The example store's run all of 2026 and 2027.)
 */
static size_t check_active_codes(const struct ops_env *env, const char *dom)
{
    char *reply = NULL;
    json_t *root;
    json_t *promotion;
    size_t i;
    size_t count;

    assert_int_equal(
        ops_http(env, "GET", "/v1/promotions/active", BEARER, NULL, &reply),
        200);
    root = json_loads(reply, 0, NULL);
    assert_non_null(root);
    json_array_foreach(json_object_get(root, "promotions"), i, promotion)
        assert_has(dom, json_string_value(json_object_get(promotion, "code")));
    count = json_array_size(json_object_get(root, "promotions"));
    json_decref(root);
    free(reply);
    return count;
}

static void test_page_shows_sync_and_active_promotions(void **state)
{
    struct status_env *env = *state;
    char *dom = chromium(&env->ops, "--dump-dom");

    assert_has(dom, "Promotions server status");
    assert_has(dom, "Sync OK:");
    assert_has(dom, "last good sync");
    assert_has(dom, "success");
    assert_has(dom, "Promotions active now");
    if (check_active_codes(&env->ops, dom) == 0) {
        assert_has(dom, "None at this hour.");
    } else {
        assert_has(dom, "Beli 2 Gratis 1 Donat");
        assert_has(dom, "Kopi &lt;script&gt;alert(1)&lt;/script&gt; &amp; "
                        "\"Teh\"");
    }
    assert_null(strstr(dom, "<script>alert(1)"));
    assert_has(dom, "Uses today");
    assert_has(dom, "Recent errors");
    assert_has(dom, "http-equiv=\"refresh\"");
    free(dom);
    screenshot(&env->ops, "status-tablet.png");
}

static void test_page_shows_failing_sync_and_cause(void **state)
{
    struct status_env *env = *state;
    char *dom;

    fake_cms_set_mode(env->cms, FAKE_CMS_STATUS, 500);
    assert_int_equal(ops_http(&env->ops, "POST", "/v1/sync", BEARER,
                              "{\"type\":\"full\"}", NULL),
                     202);
    wait_sync(&env->ops, "failed");
    dom = chromium(&env->ops, "--dump-dom");
    assert_has(dom, "Last sync failed: CMS answered HTTP 500");
    assert_has(dom, "Cause: CMS answered HTTP 500");
    assert_has(dom, "sync full");
    free(dom);
    screenshot(&env->ops, "status-tablet-cms-down.png");
}

/* libcurl write callback: the body is not needed. */
static size_t discard(char *ptr, size_t size, size_t n, void *ctx)
{
    (void)ptr;
    (void)ctx;
    return size * n;
}

/* libcurl header callback: notes a WWW-Authenticate: Basic header. */
static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    if (strncasecmp(line, "WWW-Authenticate: Basic", 23) == 0)
        *(bool *)ctx = true;
    return size * n;
}

/* GET /status with auth (NULL: none); returns the status. */
static long get_status(const struct ops_env *env, const char *userpwd,
                       bool *challenged)
{
    CURL *curl = curl_easy_init();
    char url[128];
    long code = 0;

    *challenged = false;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/status", env->port);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, challenged);
    if (userpwd != NULL)
        curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);
    return code;
}

static void test_page_needs_a_terminal_token(void **state)
{
    struct status_env *env = *state;
    char *body = NULL;
    bool challenged = false;

    assert_int_equal(get_status(&env->ops, NULL, &challenged), 401);
    assert_true(challenged);
    assert_int_equal(
        get_status(&env->ops, "staff:wrong-token-0000000000", &challenged),
        401);
    assert_int_equal(get_status(&env->ops, "staff:" CMS_TOKEN, &challenged),
                     401);
    assert_int_equal(get_status(&env->ops, OPS_TOKEN ":", &challenged), 401);
    assert_int_equal(get_status(&env->ops, "anyone:" OPS_TOKEN, &challenged),
                     200);
    assert_int_equal(ops_http(&env->ops, "GET", "/status", BEARER, NULL, &body),
                     401);
    assert_null(strstr(body, "Promotions active now"));
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_page_shows_sync_and_active_promotions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_shows_failing_sync_and_cause,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_needs_a_terminal_token, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
