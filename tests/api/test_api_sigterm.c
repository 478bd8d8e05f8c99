/*
 * test_api_sigterm.c - SIGTERM in the middle of a commit load. The real
 * `edgepromo serve` runs as a child; two client threads commit carts in a
 * loop, each with a new transaction id, and remember every one answered
 * 200. SIGTERM arrives mid-load. Then: the server exited 0, every
 * acknowledged checkout is in the database, and nothing is half-written
 * (each checkout has exactly its usage rows, current_uses matches them,
 * and the file passes its integrity check).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mem.h"
#include "fixture.h"
#include "support.h"

#define CLIENTS  2
#define MAX_ACKS 200000

struct client {
    int index;          /* thread number */
    char base[64];      /* server URL */
    char **acked;       /* transaction ids answered 200 */
    size_t acked_count; /* entries in acked */
    long unexpected;    /* statuses other than 200 and 0 */
};

static atomic_long total_acked;
static pid_t server_pid; /* the child, killed by teardown if still there */

static unsigned free_port(void)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct http_client http;
    struct http_reply r;
    char id[64];
    char cart[1024];
    long status;

    http_client_init(&http, c->base);
    for (long i = 0; c->acked_count < MAX_ACKS; i++) {
        snprintf(id, sizeof(id), "tx-%d-%ld", c->index, i);
        fixture_cart(cart, sizeof(cart), id);
        http_post(&http, "/v1/transactions", cart, &r);
        if (r.status == 200) {
            c->acked[c->acked_count++] = strdup(id);
            atomic_fetch_add(&total_acked, 1);
        } else if (r.status != 0) {
            c->unexpected++;
            fprintf(stderr, "unexpected %ld: %s\n", r.status, r.body);
        }
        status = r.status;
        http_reply_free(&r);
        if (status == 0)
            break;
    }
    http_client_deinit(&http);
    return NULL;
}

static pid_t start_server(const char *dir, unsigned port)
{
    char config[1024];
    char text[2048];
    char log[1024];
    pid_t pid;

    snprintf(config, sizeof(config), "%s/edge.conf", dir);
    snprintf(text, sizeof(text),
             "db = %s/edge.db\ncompany_id = " FIXTURE_COMPANY
             "\nstore_id = " FIXTURE_STORE "\ntimezone = Asia/Jakarta\n"
             "listen = 127.0.0.1:%u\napi_tokens = " FIXTURE_TOKEN
             "\nthreads = 2\nlog_level = info\n",
             dir, port);
    assert_true(test_write_file(config, text));
    snprintf(log, sizeof(log), "%s/serve.log", dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (freopen(log, "w", stderr) == NULL)
            _exit(127);
        execl(test_binary(), "edgepromo", "--config", config, "serve",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void wait_healthy(const char *base)
{
    struct http_client http;
    struct http_reply r;
    long status = 0;

    http_client_init(&http, base);
    for (int i = 0; i < 200; i++) {
        http_send(&http, "GET", "/healthz", NULL, NULL, NULL, 0, &r);
        status = r.status;
        http_reply_free(&r);
        if (status == 200)
            break;
        usleep(50 * 1000);
    }
    http_client_deinit(&http);
    assert_int_equal(status, 200);
}

static int wait_exit(pid_t pid)
{
    int status = 0;

    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("edgepromo serve did not stop within 15 s of SIGTERM");
    return -1;
}

static void check_database(const char *db, struct client *clients)
{
    char sql[256];
    long long acked = 0;

    for (int c = 0; c < CLIENTS; c++) {
        for (size_t i = 0; i < clients[c].acked_count; i++) {
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM pos_transactions WHERE "
                     "transaction_id = '%s'",
                     clients[c].acked[i]);
            if (db_int(db, sql) != 1)
                fail_msg("acknowledged %s is lost", clients[c].acked[i]);
        }
        acked += (long long)clients[c].acked_count;
    }
    printf("acknowledged %lld commits, %lld stored\n", acked,
           db_int(db, "SELECT count(*) FROM pos_transactions"));
    /* At most one commit per client may be in, unacknowledged. */
    assert_true(db_int(db, "SELECT count(*) FROM pos_transactions") <=
                acked + CLIENTS);
    assert_int_equal(db_int(db, "SELECT count(*) FROM pos_transactions t "
                                "WHERE (SELECT count(*) FROM promotion_usage "
                                "u WHERE u.transaction_id = "
                                "t.transaction_id) != 2"),
                     0);
    assert_int_equal(db_int(db, "SELECT count(*) FROM promotion_usage u "
                                "WHERE NOT EXISTS (SELECT 1 FROM "
                                "pos_transactions t WHERE t.transaction_id "
                                "= u.transaction_id)"),
                     0);
    assert_int_equal(db_int(db, "SELECT total(current_uses) FROM promotions"),
                     db_int(db, "SELECT count(*) FROM promotion_usage"));
    assert_int_equal(db_int(db, "SELECT count(*) FROM pragma_integrity_check "
                                "WHERE integrity_check != 'ok'"),
                     0);
}

static void test_sigterm_during_commits(void **state)
{
    struct client clients[CLIENTS];
    pthread_t threads[CLIENTS];
    char dir[512];
    char db[600];
    char path[1024];
    char base[64];
    char *log;
    unsigned port = free_port();
    pid_t pid;

    (void)state;
    test_tmpdir(dir, sizeof(dir));
    snprintf(db, sizeof(db), "%s/edge.db", dir);
    test_source_path(FIXTURE_SYNC, path, sizeof(path));
    fixture_db_build(db, path, FIXTURE_STORE, FIXTURE_COMPANY);
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
    pid = start_server(dir, port);
    server_pid = pid;
    wait_healthy(base);
    for (int c = 0; c < CLIENTS; c++) {
        memset(&clients[c], 0, sizeof(clients[c]));
        clients[c].index = c;
        snprintf(clients[c].base, sizeof(clients[c].base), "%s", base);
        clients[c].acked = calloc(MAX_ACKS, sizeof(char *));
        pthread_create(&threads[c], NULL, client_main, &clients[c]);
    }
    for (int i = 0; i < 3000 && atomic_load(&total_acked) < 300; i++)
        usleep(10 * 1000);
    assert_true(atomic_load(&total_acked) >= 300);
    kill(pid, SIGTERM);
    assert_int_equal(wait_exit(pid), 0);
    server_pid = 0;
    for (int c = 0; c < CLIENTS; c++)
        pthread_join(threads[c], NULL);
    for (int c = 0; c < CLIENTS; c++)
        assert_int_equal(clients[c].unexpected, 0);
    check_database(db, clients);
    snprintf(path, sizeof(path), "%s/serve.log", dir);
    log = test_read_file(path, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "event=http.stopping signal=SIGTERM"));
    assert_non_null(strstr(log, "event=http.stopped"));
    free(log);
    for (int c = 0; c < CLIENTS; c++) {
        for (size_t i = 0; i < clients[c].acked_count; i++)
            free(clients[c].acked[i]);
        free(clients[c].acked);
    }
    test_rmdir(dir);
}

/* A failed test leaves the server running: stop it. */
static int teardown(void **state)
{
    (void)state;
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sigterm_during_commits, teardown),
    };

    ep_mem_install_json_allocator();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
