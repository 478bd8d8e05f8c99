/*
 * fuzz_http.c - libFuzzer target: the POS API's request handling, one
 * request in and one response out (src/api/fuzz_entry.h: the route table,
 * header checks, every handler, the error table), on a SQLite database
 * holding the example store.
 *
 * Input: a request written as on the wire, without the HTTP version:
 *
 *   POST /v1/cart/evaluate?x=1
 *   Authorization: Bearer fuzz-terminal-token-0001
 *   Content-Type: application/json
 *
 *   {"brand_id": ...}
 *
 * Checked: the status is one SPEC.md section 5 allows, and never 500 (bad
 * input is never our failure); a JSON response parses; an error is exactly
 * {"error":{"code","message","field"?}} with the code its status has; an
 * evaluation adds up; and a request that failed changed nothing (the usage
 * rows, transactions and use counts are the same before and after).
 * Checkouts do change the database, so it is put back every
 * RESET_EVERY requests.
 *
 *   fuzz_http fuzz/corpus/fuzz_http -dict=fuzz/fuzz_http.dict
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/fuzz_entry.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/mem.h"
#include "common/money.h"
#include "fuzz_support.h"
#include "store/store.h"
#include "sync/sync.h"

#define TOKEN       "fuzz-terminal-token-0001"
#define RESET_EVERY 2000
#define INPUT_MAX   ((size_t)256 << 10)
#define LINE_MAX    4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct harness {
    char dir[256];           /* temporary folder */
    char db[300];            /* the database file */
    struct ep_config config; /* points at db */
    struct api_server *server;
    char *pristine;      /* the database file after set-up */
    size_t pristine_len; /* its bytes */
    sqlite3 *watch;      /* a read connection for the checks */
    struct ep_buf out;   /* the response body */
    long served;         /* requests since the last reset */
};

static struct harness h;

/* ---- set-up ----------------------------------------------------------- */

static void config_set(const char *key, const char *value)
{
    struct ep_error err = { 0 };

    FUZZ_CHECK(ep_config_set(&h.config, key, value, EP_CONFIG_FROM_FLAG,
                             &err) == EP_OK,
               "config %s: %s", key, err.message);
}

static void load_example_store(void)
{
    struct store *store = NULL;
    struct store_options options = { 0 };
    struct sync_report report;
    struct ep_error err = { 0 };
    char path[600];

    FUZZ_CHECK(store_open(h.db, &options, &store, &err) == EP_OK &&
                   store_migrate(store, 0, NULL, &err) == EP_OK,
               "store: %s", err.message);
    snprintf(path, sizeof(path), "%s/examples/full_sync.json",
             EP_FUZZ_SOURCE_DIR);
    memset(&report, 0, sizeof(report));
    FUZZ_CHECK(sync_import_file(store, &h.config, path, NULL, &report, &err) ==
                   EP_OK,
               "import: %s", err.message);
    sync_report_deinit(&report);
    store_close(store);
}

static char *read_file(const char *path, size_t *length_out)
{
    FILE *file = fopen(path, "rb");
    char *data;
    long size;

    FUZZ_CHECK(file != NULL, "cannot open %s", path);
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    fseek(file, 0, SEEK_SET);
    data = malloc((size_t)size + 1);
    FUZZ_CHECK(data != NULL &&
                   fread(data, 1, (size_t)size, file) == (size_t)size,
               "cannot read %s", path);
    fclose(file);
    *length_out = (size_t)size;
    return data;
}

/* At exit: the temporary folder goes (a crash leaves it for a look). */
static void clean_up(void)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    char path[400];

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", h.db, suffixes[i]);
        unlink(path);
    }
    rmdir(h.dir);
}

static void set_up(void)
{
    const char *tmp = getenv("TMPDIR");
    struct ep_error err = { 0 };

    snprintf(h.dir, sizeof(h.dir), "%s/ep-fuzz-http-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm"
             : tmp                         ? tmp
                                           : "/tmp");
    FUZZ_CHECK(mkdtemp(h.dir) != NULL, "mkdtemp %s", h.dir);
    atexit(clean_up);
    snprintf(h.db, sizeof(h.db), "%s/edge.db", h.dir);
    FUZZ_CHECK(ep_config_init(&h.config) == EP_OK, "config");
    config_set("db", h.db);
    config_set("company_id", FUZZ_COMPANY_ID);
    config_set("store_id", FUZZ_STORE_ID);
    config_set("timezone", FUZZ_ZONE);
    config_set("api_tokens", TOKEN ",second-terminal-token-02");
    config_set("usage_synchronous", "NORMAL");
    config_set("max_body_bytes", "65536");
    load_example_store();
    h.pristine = read_file(h.db, &h.pristine_len);
    FUZZ_CHECK(api_fuzz_server_new(&h.config, &h.server, &err) == EP_OK,
               "server: %s", err.message);
    FUZZ_CHECK(sqlite3_open_v2(h.db, &h.watch, SQLITE_OPEN_READWRITE, NULL) ==
                   SQLITE_OK,
               "watch connection");
    ep_buf_init(&h.out, (size_t)64 << 20);
}

/* Puts the database file back as it was after set-up. */
static void reset_database(void)
{
    char path[400];
    FILE *file;

    api_fuzz_server_close_store(h.server);
    sqlite3_close(h.watch);
    snprintf(path, sizeof(path), "%s-wal", h.db);
    unlink(path);
    snprintf(path, sizeof(path), "%s-shm", h.db);
    unlink(path);
    file = fopen(h.db, "wb");
    FUZZ_CHECK(file != NULL && fwrite(h.pristine, 1, h.pristine_len, file) ==
                                   h.pristine_len,
               "cannot restore %s", h.db);
    fclose(file);
    FUZZ_CHECK(sqlite3_open_v2(h.db, &h.watch, SQLITE_OPEN_READWRITE, NULL) ==
                   SQLITE_OK,
               "watch connection");
    h.served = 0;
}

/* ---- the request ------------------------------------------------------ */

/* The parts of an input; strings point into a NUL-terminated copy. */
struct parsed {
    char method[16];
    char path[LINE_MAX];
    const char *query;
    const char *authorization;
    const char *content_type;
    const char *body;
    size_t body_len;
};

/* Reads the next line of text (up to '\n', which is cut); NULL at end. */
static char *next_line(char **cursor, char *end)
{
    char *line = *cursor;
    char *newline;

    if (line >= end)
        return NULL;
    newline = memchr(line, '\n', (size_t)(end - line));
    if (newline == NULL)
        newline = end;
    *newline = '\0';
    if (newline > line && newline[-1] == '\r')
        newline[-1] = '\0';
    *cursor = newline + 1;
    return line;
}

static void read_header(struct parsed *p, char *line)
{
    char *colon = strchr(line, ':');
    char *value;

    if (colon == NULL)
        return;
    *colon = '\0';
    value = colon + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (strcasecmp(line, "Authorization") == 0 && p->authorization == NULL)
        p->authorization = value;
    else if (strcasecmp(line, "Content-Type") == 0 && p->content_type == NULL)
        p->content_type = value;
}

static bool parse_input(char *text, size_t size, struct parsed *p)
{
    char *end = text + size;
    char *cursor = text;
    char *line = next_line(&cursor, end);
    char *space;
    char *question;

    memset(p, 0, sizeof(*p));
    if (line == NULL || (space = strchr(line, ' ')) == NULL ||
        (size_t)(space - line) >= sizeof(p->method) ||
        strlen(space + 1) >= sizeof(p->path) || space[1] != '/')
        return false;
    memcpy(p->method, line, (size_t)(space - line));
    snprintf(p->path, sizeof(p->path), "%s", space + 1);
    question = strchr(p->path, '?');
    if (question != NULL) {
        *question = '\0';
        p->query = question + 1;
    }
    while ((line = next_line(&cursor, end)) != NULL && line[0] != '\0')
        read_header(p, line);
    p->body = cursor < end ? cursor : "";
    p->body_len = cursor < end ? (size_t)(end - cursor) : 0;
    return true;
}

/* ---- checks ----------------------------------------------------------- */

/* What may change: usage rows, transactions, use counts. */
static void data_summary(char *out, size_t size)
{
    static const char sql[] =
        "SELECT (SELECT count(*) || '/' || total(discount_amount) || '/' || "
        "count(voided_at) FROM promotion_usage) || '|' || "
        "(SELECT count(*) || '/' || count(voided_at) FROM pos_transactions) "
        "|| '|' || (SELECT total(current_uses) FROM promotions)";
    sqlite3_stmt *stmt = NULL;

    FUZZ_CHECK(sqlite3_prepare_v2(h.watch, sql, -1, &stmt, NULL) == SQLITE_OK,
               "summary: %s", sqlite3_errmsg(h.watch));
    FUZZ_CHECK(sqlite3_step(stmt) == SQLITE_ROW, "summary: %s",
               sqlite3_errmsg(h.watch));
    snprintf(out, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
}

static const char *const codes_by_status[][3] = {
    { "400", "invalid_json", "invalid_request" },
    { "401", "unauthorized", NULL },
    { "404", "not_found", "route_not_found" },
    { "405", "method_not_allowed", NULL },
    { "409", "conflict", NULL },
    { "413", "too_large", NULL },
    { "415", "unsupported_media_type", NULL },
    { "503", "unavailable", "cms_unavailable" },
};

static bool code_fits(unsigned status, const char *code)
{
    char text[8];

    snprintf(text, sizeof(text), "%u", status);
    for (size_t i = 0; i < sizeof(codes_by_status) / sizeof(*codes_by_status);
         i++) {
        const char *const *row = codes_by_status[i];
        if (strcmp(row[0], text) == 0)
            return strcmp(row[1], code) == 0 ||
                   (row[2] != NULL && strcmp(row[2], code) == 0);
    }
    return false;
}

static void check_error_shape(const json_t *root, unsigned status)
{
    const json_t *error = json_object_get(root, "error");
    const char *code = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    const json_t *field = json_object_get(error, "field");
    size_t expected_keys = 2 + (field != NULL);

    FUZZ_CHECK(json_object_size(root) == 1 && json_is_object(error),
               "error response is not {\"error\": {...}}");
    FUZZ_CHECK(code != NULL && message != NULL && message[0] != '\0',
               "error without code or message");
    FUZZ_CHECK(field == NULL || json_is_string(field), "field not a string");
    FUZZ_CHECK(json_object_size(error) == expected_keys,
               "error has other keys");
    FUZZ_CHECK(code_fits(status, code), "status %u with code %s", status, code);
}

static int64_t money_of(const json_t *obj, const char *key)
{
    int64_t value = -1;

    FUZZ_CHECK(ep_money_from_json(json_object_get(obj, key), key, &value,
                                  NULL) == EP_OK &&
                   value >= 0,
               "%s is not an amount >= 0", key);
    return value;
}

static void check_evaluation(const json_t *root)
{
    const json_t *lines = json_object_get(root, "lines");
    const json_t *line;
    size_t i;
    int64_t discount = 0;
    int64_t subtotal = money_of(root, "subtotal");
    int64_t total = money_of(root, "total");

    FUZZ_CHECK(json_is_array(lines), "no lines");
    json_array_foreach(lines, i, line)
    {
        FUZZ_CHECK(money_of(line, "total") ==
                       money_of(line, "subtotal") - money_of(line, "discount"),
                   "line %zu does not add up", i);
        discount += money_of(line, "discount");
    }
    FUZZ_CHECK(money_of(root, "discount_total") == discount &&
                   total == subtotal - discount,
               "evaluation does not add up");
}

static void check_response(const struct parsed *p,
                           const struct api_fuzz_response *r,
                           const char *before)
{
    char after[256];
    json_error_t jerr;
    json_t *root;

    FUZZ_CHECK(r->http_status != 500, "500 on %s %s: %.*s", p->method, p->path,
               (int)h.out.len, h.out.data);
    FUZZ_CHECK(r->http_status == 200 || r->http_status == 202 ||
                   (r->http_status >= 400 && r->http_status <= 415) ||
                   r->http_status == 503,
               "status %u", r->http_status);
    FUZZ_CHECK(r->http_status != 503 || strcmp(p->path, "/v1/sync") == 0,
               "503 on %s: %s", p->path, h.out.data);
    if (before != NULL && r->http_status >= 400) {
        data_summary(after, sizeof(after));
        FUZZ_CHECK(strcmp(before, after) == 0,
                   "a failed %s %s changed data: %s -> %s", p->method, p->path,
                   before, after);
    }
    if (strcmp(r->content_type, "application/json") != 0)
        return;
    root = json_loadb(h.out.data, h.out.len, JSON_REJECT_DUPLICATES, &jerr);
    FUZZ_CHECK(root != NULL, "response is not JSON (%s): %.*s", jerr.text,
               (int)h.out.len, h.out.data);
    if (r->http_status >= 400)
        check_error_shape(root, r->http_status);
    else if (strcmp(p->path, "/v1/cart/evaluate") == 0)
        check_evaluation(root);
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_fuzz_request req;
    struct api_fuzz_response response;
    struct parsed p;
    char before[256];
    char *text;

    if (size > INPUT_MAX)
        return 0;
    fuzz_init();
    if (h.server == NULL)
        set_up();
    text = ep_malloc(size + 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    if (parse_input(text, size, &p)) {
        bool writes = strcmp(p.method, "POST") == 0;
        if (writes)
            data_summary(before, sizeof(before));
        req =
            (struct api_fuzz_request){ p.method,        p.path,         p.query,
                                       p.authorization, p.content_type, p.body,
                                       p.body_len };
        api_fuzz_serve(h.server, &req, &response, &h.out);
        check_response(&p, &response, writes ? before : NULL);
        if (++h.served >= RESET_EVERY)
            reset_database();
    }
    ep_free(text);
    return 0;
}
