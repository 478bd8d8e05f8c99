/*
 * test_sync_cli.c - the real `edgepromo` binary (EP_BINARY) against the
 * fake CMS: `sync` output and exit codes, `holidays import`, and the crash
 * test: kill -9 at random moments during a 10,000-promotion full sync,
 * then reopen: the database holds the old set or the new one, never a mix,
 * its cursor matches the set, and store_integrity_check is ok. On SQLite
 * and on PostgreSQL (engines.h), the same tests.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "support.h"

#define KILL_ROUNDS 24
#define SET_SIZE    10000

static void write_config(const struct fixture *f, const char *url, char *path,
                         size_t size)
{
    char text[2048];

    snprintf(path, size, "%s/edge.conf", f->dir);
    snprintf(text, sizeof(text),
             "# test config\ndb = %s\ncompany_id = %s\nstore_id = %s\n"
             "cms_url = %s\ncms_token = %s\nrequest_timeout = 5\n"
             "connect_timeout = 2\nlog_level = warn\n",
             f->db, FIX_COMPANY_ID, FIX_STORE_ID, url, FIX_TOKEN);
    assert_true(test_write_file(path, text));
}

static int run_cli(const char *config, const char *args, char **out)
{
    char command[2048];

    snprintf(command, sizeof(command), "'%s' --config '%s' %s", test_binary(),
             config, args);
    return test_run(command, out, NULL);
}

static void sync_command_prints_a_report_and_exits_by_outcome(void **state)
{
    struct fixture f;
    char config[400];
    char args[600];
    char *out = NULL;

    (void)state;
    fixture_setup(&f);
    write_config(&f, fake_cms_url(f.cms), config, sizeof(config));
    fixture_serve_full(&f, "A", 0, 12);
    assert_int_equal(run_cli(config, "sync --full", &out), 0);
    assert_non_null(strstr(out, "\"status\": \"success\""));
    assert_non_null(strstr(out, "\"added\": 12"));
    free(out);
    /* The CMS down is a failure at run time: exit 1, still a report. */
    fake_cms_set_mode(f.cms, FAKE_CMS_STATUS, 500);
    assert_int_equal(run_cli(config, "sync", &out), 1);
    assert_non_null(strstr(out, "\"status\": \"failed\""));
    assert_non_null(strstr(out, "CMS answered HTTP 500"));
    free(out);
    /* A bad file is bad input: exit 2. */
    snprintf(args, sizeof(args), "sync --from '%s/nope.json'", f.dir);
    assert_int_equal(run_cli(config, args, &out), 2);
    free(out);
    assert_int_equal(run_cli(config, "sync --full --incremental", &out), 2);
    free(out);
    fixture_teardown(&f);
}

static void holidays_import_reads_json_and_csv(void **state)
{
    struct fixture f;
    char config[400];
    char path[400];
    char args[600];
    char *out = NULL;
    struct ep_arena arena;
    struct holiday_record *days = NULL;
    size_t n = 0;
    struct ep_error err = { 0 };

    (void)state;
    fixture_setup(&f);
    write_config(&f, fake_cms_url(f.cms), config, sizeof(config));
    snprintf(path, sizeof(path), "%s/days.csv", f.dir);
    assert_true(test_write_file(path, "date,name\n2026-08-17,Hari "
                                      "Kemerdekaan\n# comment\n\n"
                                      "2026-12-25,Natal\n"));
    snprintf(args, sizeof(args), "holidays import '%s'", path);
    assert_int_equal(run_cli(config, args, &out), 0);
    assert_non_null(strstr(out, "\"imported\": 2"));
    free(out);
    snprintf(path, sizeof(path), "%s/days.json", f.dir);
    assert_true(test_write_file(path, "[{\"date\": \"2026-01-01\", \"name\": "
                                      "\"Tahun Baru\"}]"));
    snprintf(args, sizeof(args), "holidays import '%s'", path);
    assert_int_equal(run_cli(config, args, &out), 0);
    free(out);
    ep_arena_init(&arena, 65536, 1 << 24);
    assert_int_equal(store_holidays_load(f.store, &arena, &days, &n, &err),
                     EP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(days[0].date, "2026-01-01");
    assert_string_equal(days[0].name, "Tahun Baru");
    ep_arena_deinit(&arena);
    assert_true(test_write_file(path, "2026-02-30,Bad day\n"));
    assert_int_equal(run_cli(config, args, &out), 2);
    free(out);
    fixture_teardown(&f);
}

/* ---- kill -9 ------------------------------------------------------------ */

/* Which set the store holds: 'A' (ids 0..9999), 'B' (5000..14999) or 'x'. */
static char classify(struct fixture *f)
{
    struct ep_arena arena;
    struct promo_record *rows = NULL;
    struct store_sync_state st;
    size_t n = 0;
    size_t low = 0;
    size_t high = 0;
    struct ep_error err = { 0 };
    char set = 'x';

    ep_arena_init(&arena, 1 << 20, (size_t)1 << 30);
    assert_int_equal(store_promotions_load(f->store, &arena, &rows, &n, &err),
                     EP_OK);
    for (size_t i = 0; i < n; i++) {
        long number = strtol(rows[i].id + 2, NULL, 10);
        low += number < 5000 ? 1 : 0;
        high += number >= SET_SIZE ? 1 : 0;
    }
    assert_int_equal(store_sync_state_get(f->store, FIX_COMPANY_ID,
                                          FIX_STORE_ID, &arena, &st, &err),
                     EP_OK);
    if (n == SET_SIZE && low == 5000 && high == 0 &&
        strcmp(st.cursor, "A-0-10000") == 0)
        set = 'A';
    if (n == SET_SIZE && low == 0 && high == 5000 &&
        strcmp(st.cursor, "A-5000-10000") == 0)
        set = 'B';
    if (set == 'x')
        fprintf(stderr, "mixed state: %zu rows, %zu low, %zu high, %s\n", n,
                low, high, st.cursor ? st.cursor : "-");
    ep_arena_deinit(&arena);
    return set;
}

static pid_t start_sync(const char *config)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execl(test_binary(), "edgepromo", "--config", config, "sync", "--full",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Reopens the store as a restarted process would (on PostgreSQL, once the
 * server has finished with the killed client's session); checks its
 * integrity.
 */
static void reopen(struct fixture *f)
{
    struct ep_error err = { 0 };

    store_close(f->store);
    f->store = NULL;
    test_engine_db_wait_clients(&f->tdb, 0);
    assert_int_equal(store_open(f->db, NULL, &f->store, &err), EP_OK);
    assert_int_equal(store_integrity_check(f->store, &err), EP_OK);
}

static void serve_set(struct fixture *f, char **bodies, size_t *lengths,
                      char set)
{
    int k = set == 'A' ? 0 : 1;

    fake_cms_set_full(f->cms, bodies[k], lengths[k]);
}

static void kill_9_leaves_the_old_set_or_the_new(void **state)
{
    struct fixture f;
    char config[400];
    char *bodies[2];
    size_t lengths[2];
    int64_t started;
    int64_t full_ms;
    int status = 0;
    char held = 'A';
    int seen_old = 0;
    int seen_new = 0;
    unsigned seed = 20260130;

    (void)state;
    fixture_setup(&f);
    write_config(&f, fake_cms_url(f.cms), config, sizeof(config));
    bodies[0] = fake_cms_make_full_body(FIX_STORE_ID, FIX_COMPANY_ID, "A", 0,
                                        SET_SIZE, &lengths[0]);
    bodies[1] = fake_cms_make_full_body(FIX_STORE_ID, FIX_COMPANY_ID, "A", 5000,
                                        SET_SIZE, &lengths[1]);
    serve_set(&f, bodies, lengths, 'A');
    assert_true(waitpid(start_sync(config), &status, 0) > 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    reopen(&f);
    assert_int_equal(classify(&f), 'A');
    /* A sync from one set to the other, timed: kills fall in 0-130% of it. */
    serve_set(&f, bodies, lengths, 'B');
    started = now_ms();
    assert_true(waitpid(start_sync(config), &status, 0) > 0);
    full_ms = now_ms() - started;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    reopen(&f);
    held = classify(&f);
    assert_int_equal(held, 'B');
    for (int round = 0; round < KILL_ROUNDS; round++) {
        char target = held == 'A' ? 'B' : 'A';
        long delay_ms = (long)(rand_r(&seed) % (unsigned)(full_ms * 13 / 10));
        pid_t pid;
        char now_held;
        serve_set(&f, bodies, lengths, target);
        pid = start_sync(config);
        usleep((useconds_t)delay_ms * 1000);
        kill(pid, SIGKILL);
        assert_true(waitpid(pid, &status, 0) == pid);
        reopen(&f);
        now_held = classify(&f);
        assert_true(now_held == held || now_held == target);
        seen_old += now_held == held ? 1 : 0;
        seen_new += now_held == target ? 1 : 0;
        held = now_held;
    }
    fprintf(stderr,
            "kill -9: %d rounds, a switch sync %lld ms, old set kept %d "
            "times, new set %d times\n",
            KILL_ROUNDS, (long long)full_ms, seen_old, seen_new);
    assert_true(seen_old > 0 && seen_new > 0);
    /* After all that, a sync runs to completion. */
    serve_set(&f, bodies, lengths, held == 'A' ? 'B' : 'A');
    assert_true(waitpid(start_sync(config), &status, 0) > 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    reopen(&f);
    assert_int_equal(classify(&f), held == 'A' ? 'B' : 'A');
    free(bodies[0]);
    free(bodies[1]);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sync_command_prints_a_report_and_exits_by_outcome),
        cmocka_unit_test(holidays_import_reads_json_and_csv),
        cmocka_unit_test(kill_9_leaves_the_old_set_or_the_new),
    };

    signal(SIGPIPE, SIG_IGN);
    return test_engines_run("test-sync-cli", tests,
                            sizeof(tests) / sizeof(tests[0]));
}
