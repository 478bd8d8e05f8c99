/*
 * test_usage_nodes.c - two edge nodes on one PostgreSQL database (SPEC.md
 * section 8): two real `edgepromo serve` processes (EP_BINARY) on two
 * ports of 127.0.0.1, with the same `db = postgresql://...`.
 *
 * Race: CLIENTS threads commit carts over HTTP, alternating between the
 * two servers, on a promotion with max_uses 300 and max_uses_per_customer
 * 3 and one without limits; every 5th transaction id is sent again to the
 * other server, every 7th again to the same one, and every 10th by two
 * clients at about the same time, one to each server. Afterwards exactly
 * 300 uses of the limited promotion are recorded, no customer has more
 * than 3, no transaction is counted twice, both servers recorded uses, and
 * each id was checked out once: every other answer to it, from either
 * server, was the same body with Idempotent-Replayed: true.
 *
 * Refresh: a sync made by a third process (`edgepromo sync --from FILE`)
 * and then one asked of one server (POST /v1/sync, against a fake CMS)
 * are served by the other server within a few seconds: its watcher sees
 * the store's data version move and reloads its snapshot.
 *
 * PostgreSQL only: without EDGEPROMO_TEST_PG_URL the program says so and
 * exits 77 (ctest: skipped).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fake_cms.h"
#include "fixture.h"
#include "support.h"

#define TOKEN      "tok-nodes-4d21a9c7e5"
#define NODES      2
#define CLIENTS    6
#define CARTS      130 /* per client */
#define CUSTOMERS  120
#define MAX_USES   300
#define PER_CUST   3
#define REFRESH_MS 5000 /* the most a node may take to serve a sync */

#define PROMOS                                                        \
    "[{\"code\": \"LIMIT\", \"promo_type\": \"percent_discount\","    \
    "  \"rules\": {\"type\": \"percent\", \"discount_percent\": 10}," \
    "  \"is_stackable\": true, \"max_uses\": 300,"                    \
    "  \"max_uses_per_customer\": 3},"                                \
    " {\"code\": \"FREE\", \"promo_type\": \"fixed_discount\","       \
    "  \"execution_stage\": \"cart_level\", \"is_stackable\": true,"  \
    "  \"rules\": {\"type\": \"fixed\", \"discount_amount\": 500}}"

#define NEW_PROMO(code)                                              \
    ", {\"code\": \"" code "\", \"promo_type\": \"fixed_discount\"," \
    "  \"execution_stage\": \"cart_level\", \"is_stackable\": true," \
    "  \"rules\": {\"type\": \"fixed\", \"discount_amount\": 100}}"

/* The serve processes running, so that a failed test leaves none. */
static pid_t running[NODES];

/* One `edgepromo serve` child. */
struct node {
    pid_t pid;        /* the process, or 0 */
    unsigned port;    /* its port on 127.0.0.1 */
    char base[64];    /* "http://127.0.0.1:PORT" */
    char config[700]; /* its config file */
    char log[700];    /* its stderr */
};

/* One HTTP answer. */
struct reply {
    long status;   /* HTTP status; 0 when the request failed */
    char *body;    /* malloc'd, NUL-terminated */
    size_t len;    /* body bytes */
    bool replayed; /* Idempotent-Replayed: true */
};

/* One answer to a checkout. */
struct answer {
    char *body;    /* malloc'd */
    bool replayed; /* Idempotent-Replayed: true */
    int node;      /* which node answered */
};

/* Every answer to one transaction id (at most 4 sends per id). */
struct sent {
    struct answer answers[4]; /* in the order they came */
    int count;                /* entries in answers */
};

/* The answers of every id "N<client>-<k>", shared by the clients. */
static struct sent table[CLIENTS][CARTS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

struct client {
    int index;          /* thread number */
    struct node *nodes; /* the servers */
    long failures;      /* answers other than 200 */
};

/* What the answers add up to. */
struct totals {
    long limited[NODES]; /* checkouts applying LIMIT, per node */
    long repeats;        /* replayed answers, all alike */
    long concurrent;     /* ids sent by two clients */
    long customer_full;  /* checkouts refused LIMIT per customer */
};

/* ---- HTTP ------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t more = size * n;
    char *grown = realloc(r->body, r->len + more + 1);

    if (grown == NULL)
        return 0;
    memcpy(grown + r->len, data, more);
    r->body = grown;
    r->len += more;
    r->body[r->len] = '\0';
    return more;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    const char *name = "Idempotent-Replayed: true";

    if (size * n >= strlen(name) && strncasecmp(data, name, strlen(name)) == 0)
        r->replayed = true;
    return size * n;
}

/* Sends a request with the test's token; body NULL is a GET. */
static void http(CURL *curl, const char *base, const char *path,
                 const char *body, struct reply *r)
{
    struct curl_slist *headers = NULL;
    char url[256];

    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "%s%s", base, path);
    headers = curl_slist_append(headers, "Authorization: Bearer " TOKEN);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    if (r->body == NULL)
        r->body = strdup("");
}

/* ---- the nodes -------------------------------------------------------- */

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

/* Writes node i's config: the fixture's database, its own port. */
static void node_config(struct node *n, const struct fixture *f, int i,
                        const char *cms_url)
{
    char text[2600];

    n->port = free_port();
    snprintf(n->base, sizeof(n->base), "http://127.0.0.1:%u", n->port);
    snprintf(n->config, sizeof(n->config), "%s/node%d.conf", f->db.dir, i);
    snprintf(n->log, sizeof(n->log), "%s/node%d.log", f->db.dir, i);
    snprintf(text, sizeof(text),
             "db = %s\ncompany_id = " FIXTURE_COMPANY
             "\nstore_id = " FIXTURE_STORE "\ntimezone = Asia/Jakarta\n"
             "listen = 127.0.0.1:%u\napi_tokens = " TOKEN "\nthreads = 4\n"
             "log_level = warn\nsync_interval = 86400\n%s%s%s",
             f->db.url, n->port, cms_url != NULL ? "cms_url = " : "",
             cms_url != NULL ? cms_url : "", cms_url != NULL ? "\n" : "");
    assert_true(test_write_file(n->config, text));
}

static void node_start(struct node *n, int i)
{
    n->pid = fork();
    assert_true(n->pid >= 0);
    if (n->pid == 0) {
        if (freopen(n->log, "w", stderr) == NULL)
            _exit(127);
        execl(test_binary(), "edgepromo", "--config", n->config, "serve",
              (char *)NULL);
        _exit(127);
    }
    running[i] = n->pid;
}

static void node_wait_healthy(const struct node *n)
{
    CURL *curl = curl_easy_init();
    struct reply r;
    long status = 0;

    for (int i = 0; i < 300 && status != 200; i++) {
        if (waitpid(n->pid, NULL, WNOHANG) == n->pid)
            break;
        http(curl, n->base, "/healthz", NULL, &r);
        status = r.status;
        free(r.body);
        if (status != 200)
            usleep(50 * 1000);
    }
    curl_easy_cleanup(curl);
    if (status != 200) {
        char *log = test_read_file(n->log, NULL);
        fail_msg("node on port %u not healthy: %s", n->port,
                 log != NULL ? log : "");
    }
}

/* Stops node i with SIGTERM; it must exit 0. */
static void node_stop(struct node *n, int i)
{
    int status = 0;

    if (n->pid <= 0)
        return;
    kill(n->pid, SIGTERM);
    assert_int_equal(waitpid(n->pid, &status, 0), n->pid);
    n->pid = 0;
    running[i] = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Starts NODES servers on the fixture's database; node 0 gets cms_url. */
static void nodes_start(struct node *nodes, const struct fixture *f,
                        const char *cms_url)
{
    for (int i = 0; i < NODES; i++) {
        node_config(&nodes[i], f, i, i == 0 ? cms_url : NULL);
        node_start(&nodes[i], i);
    }
    for (int i = 0; i < NODES; i++)
        node_wait_healthy(&nodes[i]);
}

/* ---- the race --------------------------------------------------------- */

/* A deterministic customer for a transaction id. */
static unsigned customer_of(const char *txid)
{
    unsigned h = 2166136261u;

    for (const char *p = txid; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % CUSTOMERS;
}

static void format_cart(char *buf, size_t size, const char *txid)
{
    snprintf(buf, size,
             "{\"brand_id\": \"B1\", \"transaction_id\": \"%s\","
             " \"order_number\": \"O-%s\","
             " \"at\": \"2026-03-02T10:00:00+07:00\","
             " \"customer\": {\"id\": \"CUST%u\"},"
             " \"lines\": [{\"line_id\": \"1\", \"product_id\": \"A\","
             " \"category_id\": \"K\", \"quantity\": 1,"
             " \"unit_price\": 20000}]}",
             txid, txid, customer_of(txid));
}

/* True when a checkout's answer applied LIMIT. */
static bool applies_limit(const char *body)
{
    return strstr(body, "\"code\":\"LIMIT\",\"name\"") != NULL;
}

/* Commits id N<owner>-<k> on node and keeps the answer. */
static void commit_on(struct client *c, CURL *curl, int node, int owner, int k)
{
    struct sent *s = &table[owner][k];
    char id[32];
    char cart[1024];
    struct reply r;

    snprintf(id, sizeof(id), "N%d-%d", owner, k);
    format_cart(cart, sizeof(cart), id);
    http(curl, c->nodes[node].base, "/v1/transactions", cart, &r);
    if (r.status != 200) {
        fprintf(stderr, "node %d: %s: HTTP %ld %s\n", node, id, r.status,
                r.body);
        c->failures++;
        free(r.body);
        return;
    }
    /* No cmocka assertion off the main thread: count, check later. */
    pthread_mutex_lock(&table_lock);
    if (s->count < 4) {
        s->answers[s->count++] = (struct answer){ r.body, r.replayed, node };
        r.body = NULL;
    }
    pthread_mutex_unlock(&table_lock);
    c->failures += r.body != NULL ? 1 : 0;
    free(r.body);
}

/*
 * Client i commits its ids N<i>-0... alternating nodes; every 5th sends
 * an earlier id again to the other node, every 7th to the same one, and
 * every 10th also sends the next client's id of that number to the other
 * node, at about the time its owner does.
 */
static void *client_main(void *arg)
{
    struct client *c = arg;
    int next = (c->index + 1) % CLIENTS;
    CURL *curls[NODES];

    for (int i = 0; i < NODES; i++)
        curls[i] = curl_easy_init();
    for (int k = 0; k < CARTS; k++) {
        int node = (k + c->index) % NODES;
        int other = (node + 1) % NODES;
        if (k % 10 == 0)
            commit_on(c, curls[other], other, next, k);
        commit_on(c, curls[node], node, c->index, k);
        if (k % 5 == 4)
            commit_on(c, curls[other], other, c->index, k - 2);
        if (k % 7 == 6)
            commit_on(c, curls[node], node, c->index, k - 3);
    }
    for (int i = 0; i < NODES; i++)
        curl_easy_cleanup(curls[i]);
    return NULL;
}

/*
 * Checks the answers to one id: one checkout (not replayed), every other
 * answer replayed with the same body. Adds to the totals.
 */
static void check_answers(struct sent *s, struct totals *t)
{
    const struct answer *first = NULL;

    assert_true(s->count >= 1);
    for (int i = 0; i < s->count; i++) {
        if (!s->answers[i].replayed) {
            assert_null(first);
            first = &s->answers[i];
        }
    }
    assert_non_null(first);
    for (int i = 0; i < s->count; i++)
        assert_string_equal(s->answers[i].body, first->body);
    t->limited[first->node] += applies_limit(first->body) ? 1 : 0;
    t->customer_full +=
        strstr(first->body, "\"customer_limit_reached\"") != NULL ? 1 : 0;
    t->repeats += s->count - 1;
    for (int i = 0; i < s->count; i++)
        free(s->answers[i].body);
}

/* Runs the clients; checks and adds up every id's answers. */
static void run_clients(struct node *nodes, struct totals *t)
{
    struct client clients[CLIENTS];
    pthread_t threads[CLIENTS];

    memset(table, 0, sizeof(table));
    for (int i = 0; i < CLIENTS; i++) {
        clients[i] = (struct client){ i, nodes, 0 };
        assert_int_equal(
            pthread_create(&threads[i], NULL, client_main, &clients[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(clients[i].failures, 0);
    for (int i = 0; i < CLIENTS; i++) {
        for (int k = 0; k < CARTS; k++) {
            t->concurrent += k % 10 == 0 ? 1 : 0;
            check_answers(&table[i][k], t);
        }
    }
}

/* What the database holds after the race. */
static void check_database(const struct fixture *f)
{
    assert_int_equal(fixture_sql_int(f, "SELECT COUNT(*) FROM "
                                        "promotion_usage WHERE "
                                        "promotion_code = 'LIMIT'"),
                     MAX_USES);
    assert_int_equal(fixture_sql_int(f, "SELECT current_uses FROM "
                                        "promotions WHERE code = 'LIMIT'"),
                     MAX_USES);
    assert_true(fixture_sql_int(f, "SELECT MAX(n) FROM (SELECT COUNT(*) AS "
                                   "n FROM promotion_usage WHERE "
                                   "promotion_code = 'LIMIT' GROUP BY "
                                   "customer_id) AS c") <= PER_CUST);
    assert_int_equal(fixture_sql_int(f, "SELECT COUNT(*) - COUNT(DISTINCT "
                                        "transaction_id || '/' || "
                                        "promotion_id) FROM promotion_usage"),
                     0);
    /* Every distinct id is one checkout, and FREE applied once to each. */
    assert_int_equal(fixture_sql_int(f, "SELECT COUNT(*) FROM "
                                        "pos_transactions"),
                     CLIENTS * CARTS);
    assert_int_equal(fixture_sql_int(f, "SELECT current_uses FROM "
                                        "promotions WHERE code = 'FREE'"),
                     CLIENTS * CARTS);
    fixture_check_integrity(f);
}

static void two_nodes_hold_the_limits(void **state)
{
    struct fixture f;
    struct node nodes[NODES];
    struct totals t;

    (void)state;
    memset(&t, 0, sizeof(t));
    memset(nodes, 0, sizeof(nodes));
    fixture_open(&f, PROMOS "]");
    nodes_start(nodes, &f, NULL);
    run_clients(nodes, &t);
    for (int i = 0; i < NODES; i++)
        node_stop(&nodes[i], i);
    fprintf(stderr,
            "two nodes: %d checkouts, %ld more answers replayed alike (%ld "
            "ids sent by two clients at once); LIMIT applied %ld times by "
            "node 0 and %ld by node 1, refused %ld times for the "
            "customer's limit\n",
            CLIENTS * CARTS, t.repeats, t.concurrent, t.limited[0],
            t.limited[1], t.customer_full);
    assert_int_equal(t.limited[0] + t.limited[1], MAX_USES);
    /* Both nodes used LIMIT, and both limits were reached. */
    assert_true(t.limited[0] > 0 && t.limited[1] > 0);
    assert_true(t.customer_full > 0);
    assert_true(CLIENTS * CARTS - t.customer_full > MAX_USES);
    check_database(&f);
    fixture_close(&f);
}

/* ---- the refresh ------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Polls GET /v1/promotions/{code} on node until 200; returns the ms since
 * started (now_ms() when the change was made).
 */
static int64_t wait_served(const struct node *n, const char *code,
                           int64_t started)
{
    CURL *curl = curl_easy_init();
    char path[128];
    struct reply r;
    long status = 0;

    snprintf(path, sizeof(path), "/v1/promotions/%s", code);
    while (status != 200 && now_ms() - started < 3 * REFRESH_MS) {
        http(curl, n->base, path, NULL, &r);
        status = r.status;
        free(r.body);
        if (status != 200)
            usleep(20 * 1000);
    }
    curl_easy_cleanup(curl);
    if (status != 200)
        fail_msg("node on port %u never served %s", n->port, code);
    return now_ms() - started;
}

/* Polls GET /v1/sync/last on node until the store's cursor is cursor. */
static void wait_cursor(const struct node *n, const char *cursor)
{
    CURL *curl = curl_easy_init();
    int64_t started = now_ms();
    char want[64];
    bool found = false;
    struct reply r;

    snprintf(want, sizeof(want), "\"cursor\":\"%s\"", cursor);
    while (!found && now_ms() - started < 3 * REFRESH_MS) {
        http(curl, n->base, "/v1/sync/last", NULL, &r);
        found = r.status == 200 && strstr(r.body, want) != NULL;
        free(r.body);
        if (!found)
            usleep(20 * 1000);
    }
    curl_easy_cleanup(curl);
    if (!found)
        fail_msg("node on port %u never synced to %s", n->port, cursor);
}

/* `edgepromo sync --from FILE` with node 1's config: a third process. */
static void sync_from_file(const struct fixture *f, const struct node *n,
                           const char *body)
{
    char path[700];
    char command[2400];

    snprintf(path, sizeof(path), "%s/export.json", f->db.dir);
    assert_true(test_write_file(path, body));
    snprintf(command, sizeof(command),
             "'%s' --config '%s' sync --from '%s' >/dev/null", test_binary(),
             n->config, path);
    assert_int_equal(test_run(command, NULL, NULL), 0);
}

static void a_sync_on_one_node_reaches_the_other(void **state)
{
    struct fixture f;
    struct node nodes[NODES];
    struct fake_cms *cms = fake_cms_start();
    char *first = fixture_full_sync_body(PROMOS NEW_PROMO("BARU1") "]", "t1");
    char *second = fixture_full_sync_body(
        PROMOS NEW_PROMO("BARU1") NEW_PROMO("BARU2") "]", "t2");
    char *initial = fixture_full_sync_body(PROMOS "]", "t0");
    int64_t ms[3];
    int64_t started;
    struct reply r;
    CURL *curl = curl_easy_init();

    (void)state;
    assert_non_null(cms);
    memset(nodes, 0, sizeof(nodes));
    fixture_open(&f, PROMOS "]");
    /* Node 0 syncs from the CMS: at start (the set it has), then when
       asked. */
    fake_cms_set_full(cms, initial, strlen(initial));
    nodes_start(nodes, &f, fake_cms_url(cms));
    wait_cursor(&nodes[0], "t0");
    /* A third process syncs from a file: both nodes serve the result. */
    sync_from_file(&f, &nodes[1], first);
    started = now_ms();
    ms[0] = wait_served(&nodes[0], "BARU1", started);
    ms[1] = wait_served(&nodes[1], "BARU1", started);
    /* Node 0 is asked to sync; node 1 serves what it fetched. */
    fake_cms_set_full(cms, second, strlen(second));
    started = now_ms();
    http(curl, nodes[0].base, "/v1/sync", "{\"type\": \"full\"}", &r);
    assert_int_equal(r.status, 202);
    free(r.body);
    ms[2] = wait_served(&nodes[1], "BARU2", started);
    fprintf(stderr,
            "refresh: sync --from served by node 0 after %lld ms, node 1 "
            "after %lld ms; node 0's POST /v1/sync served by node 1 after "
            "%lld ms\n",
            (long long)ms[0], (long long)ms[1], (long long)ms[2]);
    for (int i = 0; i < 3; i++)
        assert_true(ms[i] <= REFRESH_MS);
    for (int i = 0; i < NODES; i++)
        node_stop(&nodes[i], i);
    curl_easy_cleanup(curl);
    fake_cms_stop(cms);
    free(first);
    free(second);
    free(initial);
    fixture_close(&f);
}

/* After each test: kills what a failed test left running. */
static int kill_nodes(void **state)
{
    (void)state;
    for (int i = 0; i < NODES; i++) {
        if (running[i] > 0) {
            kill(running[i], SIGKILL);
            waitpid(running[i], NULL, 0);
            running[i] = 0;
        }
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(two_nodes_hold_the_limits, kill_nodes),
        cmocka_unit_test_teardown(a_sync_on_one_node_reaches_the_other,
                                  kill_nodes),
    };
    int failures;

    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    failures = test_engines_run_postgres("test-usage-nodes", tests,
                                         sizeof(tests) / sizeof(tests[0]));
    curl_global_cleanup();
    return failures;
}
