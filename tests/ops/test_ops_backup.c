/*
 * test_ops_backup.c - `edgepromo backup` while four processes commit
 * checkouts without pause, and `edgepromo restore` of what it wrote.
 *
 * The store is the example store, grown to about 50 MB (filler checkouts)
 * so that the backup takes many steps, served by the real `edgepromo
 * serve` (synchronous=FULL: every 200 is on disk). Four terminal processes
 * each keep one connection and POST /v1/transactions back to back, noting
 * when each checkout was sent and when its 200 came. In the middle the
 * real binary runs `backup`, as a cron job would. The copy is restored
 * into a fresh database, which must pass integrity_check and hold every
 * checkout acknowledged before the backup began, none sent after it ended,
 * and every checkout whole (its usage rows with it). The checkout
 * latencies during the backup and outside it go to
 * tests/artifacts/<build>-backup-pause.txt: the figure docs/operations.md
 * quotes. Times are reported, never asserted (SPEC.md section 8).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <curl/curl.h>

#include "ops.h"
#include "support.h"

#define WRITERS         4
#define FILL_ROWS       40000
#define WARM_MS         1500
#define AFTER_MS        1000
#define TXID_MAX        40
#define WRITER_ACKS_MAX 400000

/* One acknowledged checkout, as a writer saw it. */
struct ack {
    long long start_us;  /* usage_commit called */
    long long end_us;    /* it returned EP_OK */
    char txid[TXID_MAX]; /* "w<writer>-<n>" */
};

static volatile sig_atomic_t writer_stop;

static void on_term(int signo)
{
    (void)signo;
    writer_stop = 1;
}

/* The example cart 01 (KOPI10 applies), dated now, with its own id. */
static void cart_text(char *out, size_t size, const char *txid)
{
    snprintf(out, size,
             "{\"brand_id\":\"4b4c6546-159b-4cd0-96d4-50a763ba12df\","
             "\"transaction_id\":\"%s\",\"customer\":{\"id\":\"c-%s\"},"
             "\"lines\":[{\"line_id\":\"1\",\"product_id\":"
             "\"c0ffee00-0000-4000-8000-000000000001\",\"category_id\":"
             "\"ca7e0000-0000-4000-8000-000000000101\",\"quantity\":1,"
             "\"unit_price\":25000}]}",
             txid, txid);
}

/* Discards a reply body; a checkout's answer is judged by its status. */
static size_t discard(char *ptr, size_t size, size_t n, void *ctx)
{
    (void)ptr;
    (void)ctx;
    return size * n;
}

/* A terminal's connection: keep-alive, bearer token, JSON body. */
static CURL *terminal_open(const struct ops_env *env,
                           struct curl_slist **headers)
{
    CURL *curl = curl_easy_init();
    char url[128];

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/transactions",
             env->port);
    *headers = curl_slist_append(NULL, "Authorization: Bearer " OPS_TOKEN);
    *headers = curl_slist_append(*headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, *headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    return curl;
}

/* Commits one checkout; true when acknowledged (200). */
static bool commit_one(CURL *curl, const char *txid)
{
    char text[1024];
    long code = 0;

    cart_text(text, sizeof(text), txid);
    curl_easy_setopt(curl, CURLOPT_COPYPOSTFIELDS, text);
    if (curl_easy_perform(curl) != CURLE_OK)
        return false;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    return code == 200;
}

/* A terminal process: checks out until SIGTERM, then writes its acks. */
static void writer_main(const struct ops_env *env, int n, const char *path)
{
    struct curl_slist *headers = NULL;
    struct ack *acks = calloc(WRITER_ACKS_MAX, sizeof(*acks));
    CURL *curl = terminal_open(env, &headers);
    size_t count = 0;
    FILE *f;

    signal(SIGTERM, on_term);
    for (long i = 0; !writer_stop && count < WRITER_ACKS_MAX; i++) {
        struct ack *a = &acks[count];
        snprintf(a->txid, sizeof(a->txid), "w%d-%ld", n, i);
        a->start_us = ops_now_us();
        if (commit_one(curl, a->txid)) {
            a->end_us = ops_now_us();
            count++;
        }
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    f = fopen(path, "w");
    for (size_t i = 0; f != NULL && i < count; i++)
        fprintf(f, "%s %lld %lld\n", acks[i].txid, acks[i].start_us,
                acks[i].end_us);
    _exit(f != NULL && fclose(f) == 0 ? 0 : 4);
}

/* Grows the database with filler checkouts (about 50 MB). */
static void fill(const char *db)
{
    char sql[1024];

    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
             "WHERE i < %d) INSERT INTO pos_transactions (transaction_id, "
             "store_id, brand_id, usage_date, response_json, created_at) "
             "SELECT 'fill-' || i, 'S', 'B', '2026-01-01', "
             "printf('{\"filler\":\"%%s\"}', hex(randomblob(600))), "
             "'2026-01-01 00:00:00' FROM n",
             FILL_ROWS);
    ops_sql_exec(db, sql);
}

static int setup(void **state)
{
    struct ops_env *env = calloc(1, sizeof(*env));

    ops_env_init(env, NULL);
    assert_int_equal(
        ops_cli(env, "sync --from examples/full_sync.json", NULL, NULL), 0);
    *state = env;
    return 0;
}

static int teardown(void **state)
{
    ops_env_free(*state);
    free(*state);
    return 0;
}

/* Reads the acks the writers wrote. */
static size_t read_acks(const struct ops_env *env, struct ack **out)
{
    size_t cap = 1 << 20;
    struct ack *acks = calloc(cap, sizeof(*acks));
    size_t count = 0;
    char path[700];

    for (int n = 0; n < WRITERS; n++) {
        FILE *f;
        snprintf(path, sizeof(path), "%s/acks-%d.txt", env->dir, n);
        f = fopen(path, "r");
        assert_non_null(f);
        while (count < cap &&
               fscanf(f, "%39s %lld %lld", acks[count].txid,
                      &acks[count].start_us, &acks[count].end_us) == 3)
            count++;
        fclose(f);
    }
    *out = acks;
    return count;
}

static int compare_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The writers' transaction ids in a database, sorted; *count_out set. */
static char **restored_ids(const char *db, char **text_out, size_t *count_out)
{
    char *text = ops_sql_text(db, "SELECT transaction_id FROM "
                                  "pos_transactions WHERE transaction_id "
                                  "LIKE 'w%' ORDER BY 1");
    size_t cap = 1 << 20;
    char **ids = calloc(cap, sizeof(*ids));
    size_t count = 0;
    char *save = NULL;

    for (char *line = strtok_r(text, "\n", &save); line && count < cap;
         line = strtok_r(NULL, "\n", &save))
        ids[count++] = line;
    qsort(ids, count, sizeof(*ids), compare_text);
    *text_out = text;
    *count_out = count;
    return ids;
}

/* Latency figures of the commits inside or outside [t0, t1]. */
struct pauses {
    size_t count;     /* commits */
    long long max_us; /* longest */
    long long p99_us; /* 99th percentile */
    double mean_us;   /* mean */
};

static int compare_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a;
    long long y = *(const long long *)b;

    return (x > y) - (x < y);
}

static void measure(const struct ack *acks, size_t n, long long t0,
                    long long t1, bool inside, struct pauses *out)
{
    long long *lat = calloc(n + 1, sizeof(*lat));
    double sum = 0;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        bool overlaps = acks[i].end_us >= t0 && acks[i].start_us <= t1;
        if (overlaps != inside)
            continue;
        lat[out->count] = acks[i].end_us - acks[i].start_us;
        sum += (double)lat[out->count];
        out->count++;
    }
    qsort(lat, out->count, sizeof(*lat), compare_ll);
    if (out->count > 0) {
        out->max_us = lat[out->count - 1];
        out->p99_us = lat[(out->count * 99) / 100];
        out->mean_us = sum / (double)out->count;
    }
    free(lat);
}

static void report(const struct ack *acks, size_t n, long long t0, long long t1,
                   const char *backup_json)
{
    struct pauses in;
    struct pauses out;
    char text[2048];
    char path[1200];

    if (getenv("OPS_DEBUG") != NULL)
        for (size_t i = 0; i < n; i++)
            if (acks[i].end_us - acks[i].start_us > 50000)
                fprintf(stderr, "slow %s start %+.1f ms took %.1f ms\n",
                        acks[i].txid, (double)(acks[i].start_us - t0) / 1000.0,
                        (double)(acks[i].end_us - acks[i].start_us) / 1000.0);
    measure(acks, n, t0, t1, true, &in);
    measure(acks, n, t0, t1, false, &out);
    snprintf(text, sizeof(text),
             "backup under load: %d terminal processes checking out through "
             "serve, synchronous=FULL\n"
             "backup: %.1f ms wall: %.*s\n"
             "commits during the backup: %zu, longest %.2f ms, p99 %.2f ms, "
             "mean %.2f ms\n"
             "commits outside it:        %zu, longest %.2f ms, p99 %.2f ms, "
             "mean %.2f ms\n",
             WRITERS, (double)(t1 - t0) / 1000.0,
             (int)strcspn(backup_json, "\n"), backup_json, in.count,
             (double)in.max_us / 1000.0, (double)in.p99_us / 1000.0,
             in.mean_us / 1000.0, out.count, (double)out.max_us / 1000.0,
             (double)out.p99_us / 1000.0, out.mean_us / 1000.0);
    fputs(text, stderr);
    ops_artifact_path("backup-pause.txt", path, sizeof(path));
    remove(path);
    ops_append_file(path, text);
    assert_true(in.count > 0);
}

/* Starts the writers; returns their pids in pids. */
static void start_writers(const struct ops_env *env, pid_t *pids)
{
    char path[700];

    for (int n = 0; n < WRITERS; n++) {
        snprintf(path, sizeof(path), "%s/acks-%d.txt", env->dir, n);
        pids[n] = fork();
        assert_true(pids[n] >= 0);
        if (pids[n] == 0)
            writer_main(env, n, path);
    }
}

static void stop_writers(const pid_t *pids)
{
    for (int n = 0; n < WRITERS; n++)
        kill(pids[n], SIGTERM);
    for (int n = 0; n < WRITERS; n++) {
        int status = 0;
        assert_int_equal(waitpid(pids[n], &status, 0), pids[n]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

/* Checks the restored copy against what the writers were told. */
static void check_restored(const char *db, const struct ack *acks, size_t n,
                           long long t0, long long t1)
{
    char *text = NULL;
    size_t count = 0;
    char **ids = restored_ids(db, &text, &count);
    size_t before = 0;

    for (size_t i = 0; i < n; i++) {
        const char *key = acks[i].txid;
        bool found =
            bsearch(&key, ids, count, sizeof(*ids), compare_text) != NULL;
        if (acks[i].end_us < t0) {
            before++;
            if (!found)
                fail_msg("%s was acknowledged before the backup began but "
                         "is not in it",
                         key);
        }
        if (acks[i].start_us > t1 && found)
            fail_msg("%s began after the backup ended but is in it", key);
    }
    fprintf(stderr,
            "restored: %zu writer checkouts, %zu acknowledged "
            "before the backup began (all present)\n",
            count, before);
    assert_true(before > 0);
    assert_int_equal(
        ops_sql_int(db, "SELECT COUNT(*) FROM pos_transactions t WHERE "
                        "transaction_id LIKE 'w%' AND NOT EXISTS (SELECT 1 "
                        "FROM promotion_usage u WHERE u.transaction_id = "
                        "t.transaction_id)"),
        0);
    free(ids);
    free(text);
}

static void test_backup_while_four_processes_commit(void **state)
{
    struct ops_env *env = *state;
    struct ops_env fresh;
    struct ack *acks = NULL;
    pid_t pids[WRITERS];
    char args[800];
    char *out = NULL;
    char *integrity;
    long long t0;
    long long t1;
    size_t n;

    fill(env->db);
    ops_serve_start(env);
    start_writers(env, pids);
    usleep(WARM_MS * 1000);
    snprintf(args, sizeof(args), "backup '%s/backup.db'", env->dir);
    t0 = ops_now_us();
    assert_int_equal(ops_cli(env, args, &out, NULL), 0);
    t1 = ops_now_us();
    usleep(AFTER_MS * 1000);
    stop_writers(pids);
    assert_int_equal(ops_serve_stop(env), 0);
    n = read_acks(env, &acks);
    report(acks, n, t0, t1, out);
    assert_non_null(strstr(out, "\"steps\": "));
    assert_null(strstr(out, "\"steps\": 1,"));
    ops_env_init(&fresh, NULL);
    snprintf(args, sizeof(args), "restore '%s/backup.db'", env->dir);
    assert_int_equal(ops_cli(&fresh, args, NULL, NULL), 0);
    integrity = ops_sql_text(fresh.db, "PRAGMA integrity_check");
    assert_string_equal(integrity, "ok\n");
    free(integrity);
    check_restored(fresh.db, acks, n, t0, t1);
    ops_env_free(&fresh);
    free(acks);
    free(out);
}

/* POST /v1/transactions of the example cart with id txid; the status. */
static long checkout(const struct ops_env *env, const char *txid)
{
    char body[1024];

    cart_text(body, sizeof(body), txid);
    return ops_http(env, "POST", "/v1/transactions", "Bearer " OPS_TOKEN, body,
                    NULL);
}

static long long has_txid(const char *db, const char *txid)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM pos_transactions WHERE transaction_id = "
             "'%s'",
             txid);
    return ops_sql_int(db, sql);
}

/*
 * restore while serve runs (docs/operations.md): the server goes on, sees
 * the restored rows and takes checkouts; what came after the backup is in
 * the safety copy only.
 */
static void test_restore_while_serving(void **state)
{
    struct ops_env *env = *state;
    char args[800];
    char *out = NULL;
    char *safety;
    char *end;

    ops_serve_start(env);
    assert_int_equal(checkout(env, "before-backup"), 200);
    snprintf(args, sizeof(args), "backup '%s/live.db'", env->dir);
    assert_int_equal(ops_cli(env, args, NULL, NULL), 0);
    assert_int_equal(checkout(env, "after-backup"), 200);
    snprintf(args, sizeof(args), "restore '%s/live.db'", env->dir);
    assert_int_equal(ops_cli(env, args, &out, NULL), 0);
    assert_int_equal(ops_http(env, "GET", "/readyz", NULL, NULL, NULL), 200);
    assert_int_equal(checkout(env, "after-restore"), 200);
    assert_int_equal(ops_serve_stop(env), 0);
    assert_int_equal(has_txid(env->db, "before-backup"), 1);
    assert_int_equal(has_txid(env->db, "after-backup"), 0);
    assert_int_equal(has_txid(env->db, "after-restore"), 1);
    safety = strstr(out, "\"safety_copy\": \"");
    assert_non_null(safety);
    safety += strlen("\"safety_copy\": \"");
    end = strchr(safety, '"');
    assert_non_null(end);
    *end = '\0';
    assert_int_equal(has_txid(safety, "after-backup"), 1);
    free(out);
}

/* Runs restore FILE; checks it fails with a message holding want. */
static void expect_refused(const struct ops_env *env, const char *file,
                           const char *want)
{
    char args[800];
    char *err = NULL;
    long long before = ops_sql_int(env->db, "SELECT COUNT(*) FROM promotions");

    snprintf(args, sizeof(args), "restore '%s'", file);
    assert_int_not_equal(ops_cli(env, args, NULL, &err), 0);
    if (strstr(err, want) == NULL)
        fail_msg("restore %s: expected '%s' in: %s", file, want, err);
    assert_int_equal(ops_sql_int(env->db, "SELECT COUNT(*) FROM promotions"),
                     before);
    free(err);
}

/* Overwrites 64 KiB in the middle of a file with a pattern. */
static void damage(const char *path)
{
    char junk[65536];
    FILE *f = fopen(path, "r+b");

    assert_non_null(f);
    memset(junk, 0x5a, sizeof(junk));
    assert_int_equal(fseek(f, 8192, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
    fclose(f);
}

static void test_restore_refuses_what_it_cannot_trust(void **state)
{
    struct ops_env *env = *state;
    char file[700];
    char args[800];
    char *err = NULL;

    snprintf(file, sizeof(file), "%s/b.db", env->dir);
    snprintf(args, sizeof(args), "backup '%s'", file);
    assert_int_equal(ops_cli(env, args, NULL, NULL), 0);
    assert_int_equal(ops_cli(env, args, NULL, &err), 2);
    assert_non_null(strstr(err, "exists"));
    ops_sql_exec(file, "INSERT INTO schema_migrations (version, description, "
                       "applied_at) VALUES (99, 'future', '2030-01-01')");
    expect_refused(env, file, "newer than this program");
    remove(file);
    assert_int_equal(ops_cli(env, args, NULL, NULL), 0);
    damage(file);
    expect_refused(env, file, "");
    snprintf(file, sizeof(file), "%s/other.db", env->dir);
    ops_sql_exec(file, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    expect_refused(env, file, "not an edgepromo database");
    expect_refused(env, "/nonexistent/backup.db", "No such file");
    free(err);
}

static void test_postgresql_points_to_pg_dump(void **state)
{
    const char *url = getenv("EDGEPROMO_TEST_PG_URL");
    struct ops_env *env = *state;
    char args[1200];
    char *err = NULL;

    if (url == NULL || url[0] == '\0')
        skip();
    snprintf(args, sizeof(args), "--db '%s' backup '%s/pg.db'", url, env->dir);
    assert_int_equal(ops_cli(env, args, NULL, &err), 2);
    assert_non_null(strstr(err, "pg_dump"));
    free(err);
    snprintf(args, sizeof(args), "--db '%s' restore '%s/pg.db'", url, env->dir);
    assert_int_equal(ops_cli(env, args, NULL, &err), 2);
    assert_non_null(strstr(err, "pg_restore"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backup_while_four_processes_commit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_restore_refuses_what_it_cannot_trust, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_while_serving, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_postgresql_points_to_pg_dump,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
