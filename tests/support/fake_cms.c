/* fake_cms.c - the fake CMS of fake_cms.h, on libmicrohttpd. */
#define _GNU_SOURCE
#include "fake_cms.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FAKE_REQUESTS_MAX 4096
#define FAKE_UPLOAD_MAX   (1 << 20)
#define FAKE_HANG_MS      60000

struct fake_cms {
    struct MHD_Daemon *daemon;
    unsigned port;
    char url[64];
    pthread_mutex_t lock;
    char *full;
    size_t full_length;
    char *incremental;
    size_t incremental_length;
    enum fake_cms_mode mode;
    int status;
    char version[64];
    struct fake_cms_request requests[FAKE_REQUESTS_MAX];
    size_t request_count;
    atomic_bool stopping;
};

/* The upload of one connection. */
struct upload {
    char *data;
    size_t length;
    bool too_large;
};

/* What close mode streams: half of a copy of the body. */
struct half_body {
    char *data;
    size_t length;
    size_t stop_at;
};

static char *dup_text(const char *s, size_t n)
{
    char *copy = malloc(n + 1);

    if (copy != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

static void record(struct fake_cms *cms, const char *path, const char *body,
                   const char *auth)
{
    struct fake_cms_request *r;

    pthread_mutex_lock(&cms->lock);
    if (cms->request_count < FAKE_REQUESTS_MAX) {
        r = &cms->requests[cms->request_count++];
        r->path = strdup(path);
        r->body = strdup(body != NULL ? body : "");
        r->authorization = auth != NULL ? strdup(auth) : NULL;
    }
    pthread_mutex_unlock(&cms->lock);
}

static enum MHD_Result send_text(struct MHD_Connection *connection,
                                 unsigned status, const char *text,
                                 const char *version)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(
        strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, "Content-Type", "application/json");
    if (version != NULL)
        MHD_add_response_header(response, "X-CMS-Version", version);
    rc = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return rc;
}

static ssize_t read_half(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct half_body *h = cls;
    size_t n;

    if (pos >= h->stop_at)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = h->stop_at - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, h->data + pos, n);
    return (ssize_t)n;
}

static void free_half(void *cls)
{
    struct half_body *h = cls;

    free(h->data);
    free(h);
}

/* Announces the whole body, sends half, then breaks the connection. */
static enum MHD_Result send_half(struct MHD_Connection *connection,
                                 const char *body, size_t length,
                                 const char *version)
{
    struct half_body *h = calloc(1, sizeof(*h));
    struct MHD_Response *response;
    enum MHD_Result rc;

    if (h == NULL || (h->data = dup_text(body, length)) == NULL) {
        free(h);
        return MHD_NO;
    }
    h->length = length;
    h->stop_at = length / 2;
    response = MHD_create_response_from_callback(length, 16 * 1024, read_half,
                                                 h, free_half);
    if (response == NULL) {
        free_half(h);
        return MHD_NO;
    }
    MHD_add_response_header(response, "Content-Type", "application/json");
    MHD_add_response_header(response, "X-CMS-Version", version);
    rc = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return rc;
}

static void hang(struct fake_cms *cms)
{
    for (int waited = 0; waited < FAKE_HANG_MS && !atomic_load(&cms->stopping);
         waited += 10)
        usleep(10 * 1000);
}

/* Answers a sync request in the current mode. */
static enum MHD_Result answer(struct fake_cms *cms,
                              struct MHD_Connection *connection,
                              bool incremental)
{
    enum fake_cms_mode mode;
    int status;
    char *body;
    size_t length;
    char version[64];
    enum MHD_Result rc;

    pthread_mutex_lock(&cms->lock);
    mode = cms->mode;
    status = cms->status;
    snprintf(version, sizeof(version), "%s", cms->version);
    length = incremental ? cms->incremental_length : cms->full_length;
    body = dup_text(incremental ? (cms->incremental ? cms->incremental : "")
                                : (cms->full ? cms->full : ""),
                    length);
    pthread_mutex_unlock(&cms->lock);
    if (body == NULL)
        return MHD_NO;
    if (mode == FAKE_CMS_HANG)
        hang(cms);
    if (mode == FAKE_CMS_STATUS)
        rc = send_text(connection, (unsigned)status,
                       "{\"error\": \"fake CMS failure\"}", version);
    else if (mode == FAKE_CMS_GONE_INCREMENTAL && incremental)
        rc =
            send_text(connection, 410, "{\"error\": \"cursor gone\"}", version);
    else if (mode == FAKE_CMS_MALFORMED)
        rc = send_text(connection, 200,
                       "{\"promotions\": [\n  {\"id\": \"x\",\n  oops\n",
                       version);
    else if (mode == FAKE_CMS_CLOSE)
        rc = send_half(connection, body, length, version);
    else
        rc = send_text(connection, 200, body, version);
    free(body);
    return rc;
}

static enum MHD_Result control(struct fake_cms *cms,
                               struct MHD_Connection *connection,
                               const char *body)
{
    enum fake_cms_mode mode;
    int status = 0;
    char text[32];
    size_t n = strcspn(body, " \r\n");

    snprintf(text, sizeof(text), "%.*s", (int)n, body);
    if (!fake_cms_mode_parse(text, &mode, &status))
        return send_text(connection, 400, "{\"error\": \"unknown mode\"}",
                         NULL);
    fake_cms_set_mode(cms, mode, status);
    return send_text(connection, 200, "{\"ok\": true}", NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct fake_cms *cms = cls;
    struct upload *up = *con_cls;
    enum MHD_Result rc;

    (void)version;
    if (up == NULL) {
        up = calloc(1, sizeof(*up));
        *con_cls = up;
        return up != NULL ? MHD_YES : MHD_NO;
    }
    if (*data_size > 0) {
        if (up->length + *data_size <= FAKE_UPLOAD_MAX) {
            char *bigger = realloc(up->data, up->length + *data_size + 1);
            if (bigger == NULL)
                return MHD_NO;
            up->data = bigger;
            memcpy(up->data + up->length, data, *data_size);
            up->length += *data_size;
            up->data[up->length] = '\0';
        } else {
            up->too_large = true;
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/_fake/mode") == 0 && strcmp(method, "POST") == 0)
        return control(cms, connection, up->data ? up->data : "");
    if (strcmp(method, "POST") != 0 ||
        (strcmp(url, "/api/v1/sync/promotions/") != 0 &&
         strcmp(url, "/api/v1/sync/promotions/incremental/") != 0))
        return send_text(connection, 404, "{\"error\": \"not found\"}", NULL);
    record(cms, url, up->data,
           MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                       "Authorization"));
    rc = answer(cms, connection, strstr(url, "incremental") != NULL);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *connection,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct upload *up = *con_cls;

    (void)cls;
    (void)connection;
    (void)toe;
    if (up != NULL) {
        free(up->data);
        free(up);
        *con_cls = NULL;
    }
}

struct fake_cms *fake_cms_start_port(unsigned port)
{
    struct fake_cms *cms = calloc(1, sizeof(*cms));
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;

    if (cms == NULL)
        return NULL;
    pthread_mutex_init(&cms->lock, NULL);
    snprintf(cms->version, sizeof(cms->version), "fake-1.0");
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cms->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, cms, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, cms,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
    info = cms->daemon != NULL
               ? MHD_get_daemon_info(cms->daemon, MHD_DAEMON_INFO_BIND_PORT)
               : NULL;
    if (info == NULL) {
        fake_cms_stop(cms);
        return NULL;
    }
    cms->port = info->port;
    snprintf(cms->url, sizeof(cms->url), "http://127.0.0.1:%u", cms->port);
    return cms;
}

struct fake_cms *fake_cms_start(void)
{
    return fake_cms_start_port(0);
}

void fake_cms_requests_clear(struct fake_cms *cms)
{
    pthread_mutex_lock(&cms->lock);
    for (size_t i = 0; i < cms->request_count; i++) {
        free((char *)cms->requests[i].path);
        free((char *)cms->requests[i].body);
        free((char *)cms->requests[i].authorization);
    }
    cms->request_count = 0;
    pthread_mutex_unlock(&cms->lock);
}

void fake_cms_stop(struct fake_cms *cms)
{
    if (cms == NULL)
        return;
    atomic_store(&cms->stopping, true);
    if (cms->daemon != NULL)
        MHD_stop_daemon(cms->daemon);
    fake_cms_requests_clear(cms);
    free(cms->full);
    free(cms->incremental);
    pthread_mutex_destroy(&cms->lock);
    free(cms);
}

unsigned fake_cms_port(const struct fake_cms *cms)
{
    return cms->port;
}

const char *fake_cms_url(const struct fake_cms *cms)
{
    return cms->url;
}

static void set_body(struct fake_cms *cms, char **slot, size_t *slot_length,
                     const char *body, size_t length)
{
    char *copy = dup_text(body, length);

    pthread_mutex_lock(&cms->lock);
    free(*slot);
    *slot = copy;
    *slot_length = copy != NULL ? length : 0;
    pthread_mutex_unlock(&cms->lock);
}

void fake_cms_set_full(struct fake_cms *cms, const char *body, size_t length)
{
    set_body(cms, &cms->full, &cms->full_length, body, length);
}

void fake_cms_set_incremental(struct fake_cms *cms, const char *body,
                              size_t length)
{
    set_body(cms, &cms->incremental, &cms->incremental_length, body, length);
}

static char *slurp(const char *path, size_t *length)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)size + 1))) {
        if (fread(data, 1, (size_t)size, f) != (size_t)size) {
            free(data);
            data = NULL;
        } else {
            data[size] = '\0';
            *length = (size_t)size;
        }
    }
    fclose(f);
    return data;
}

bool fake_cms_load_files(struct fake_cms *cms, const char *full_path,
                         const char *incremental_path)
{
    size_t length = 0;
    char *data;

    if (full_path != NULL) {
        if ((data = slurp(full_path, &length)) == NULL)
            return false;
        fake_cms_set_full(cms, data, length);
        free(data);
    }
    if (incremental_path != NULL) {
        if ((data = slurp(incremental_path, &length)) == NULL)
            return false;
        fake_cms_set_incremental(cms, data, length);
        free(data);
    }
    return true;
}

void fake_cms_set_mode(struct fake_cms *cms, enum fake_cms_mode mode,
                       int status)
{
    pthread_mutex_lock(&cms->lock);
    cms->mode = mode;
    cms->status = status;
    pthread_mutex_unlock(&cms->lock);
}

bool fake_cms_mode_parse(const char *text, enum fake_cms_mode *mode,
                         int *status)
{
    static const struct {
        const char *name;
        enum fake_cms_mode mode;
    } names[] = { { "ok", FAKE_CMS_OK },
                  { "hang", FAKE_CMS_HANG },
                  { "close", FAKE_CMS_CLOSE },
                  { "malformed", FAKE_CMS_MALFORMED },
                  { "gone", FAKE_CMS_GONE_INCREMENTAL } };
    char *end = NULL;
    long code;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(text, names[i].name) == 0) {
            *mode = names[i].mode;
            *status = 0;
            return true;
        }
    }
    code = strtol(text, &end, 10);
    if (end == text || *end != '\0' || code < 100 || code > 599)
        return false;
    *mode = FAKE_CMS_STATUS;
    *status = (int)code;
    return true;
}

void fake_cms_set_version(struct fake_cms *cms, const char *version)
{
    pthread_mutex_lock(&cms->lock);
    snprintf(cms->version, sizeof(cms->version), "%s", version);
    pthread_mutex_unlock(&cms->lock);
}

size_t fake_cms_request_count(struct fake_cms *cms)
{
    size_t n;

    pthread_mutex_lock(&cms->lock);
    n = cms->request_count;
    pthread_mutex_unlock(&cms->lock);
    return n;
}

bool fake_cms_request_get(struct fake_cms *cms, size_t i,
                          struct fake_cms_request *out)
{
    bool ok;

    pthread_mutex_lock(&cms->lock);
    ok = i < cms->request_count;
    if (ok)
        *out = cms->requests[i];
    pthread_mutex_unlock(&cms->lock);
    return ok;
}

/* ---- a deterministic body ---------------------------------------------- */

struct text {
    char *data;
    size_t length;
    size_t capacity;
};

static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->data + t->length, t->capacity - t->length, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->capacity - t->length) {
            t->length += (size_t)n;
            return;
        }
        t->capacity = t->capacity * 2 + (size_t)n + 1;
        t->data = realloc(t->data, t->capacity);
        if (t->data == NULL)
            abort();
    }
}

static void put_promotion(struct text *t, const char *store_id,
                          const char *company_id, const char *prefix, size_t n)
{
    put(t,
        "{\"id\":\"%s-%06zu\",\"code\":\"%sC%06zu\",\"name\":\"%s promotion "
        "%zu\",\"description\":\"Diskon %zu%% untuk produk pilihan\","
        "\"terms_conditions\":\"Berlaku selama persediaan masih ada. Tidak "
        "dapat diuangkan.\",\"company_id\":\"%s\",\"brand_id\":"
        "\"4b4c6546-159b-4cd0-96d4-50a763ba12df\",\"store_id\":\"%s\","
        "\"promo_type\":\"percent_discount\",\"apply_to\":\"product\","
        "\"execution_stage\":\"item_level\",\"execution_priority\":%zu,"
        "\"is_active\":true,\"is_auto_apply\":%s,\"require_voucher\":false,"
        "\"member_only\":false,\"is_stackable\":true,\"start_date\":"
        "\"2026-01-01\",\"end_date\":\"2026-12-31\",\"time_start\":null,"
        "\"time_end\":null,\"valid_days\":[],\"exclude_holidays\":false,"
        "\"rules\":{\"type\":\"percent\",\"discount_percent\":%zu,"
        "\"max_discount_amount\":null,\"min_purchase\":0},\"scope\":"
        "{\"apply_to\":\"product\",\"categories\":[],\"products\":[",
        prefix, n, prefix, n, prefix, n, 5 + n % 40, company_id, store_id,
        100 + n % 800, n % 3 == 0 ? "true" : "false", 5 + n % 40);
    for (size_t k = 0; k < 14; k++)
        put(t, "%s\"p%04zx-%04zx-4000-8000-%012zx\"", k ? "," : "", n % 65536,
            k, n * 31 + k);
    put(t,
        "],\"exclude_categories\":[],\"exclude_products\":[]},\"targeting\":"
        "{\"stores\":\"all\",\"brands\":\"all\",\"member_only\":false,"
        "\"customer_type\":\"all\",\"member_tiers\":\"all\","
        "\"payment_methods\":\"all\"},\"max_uses\":null,"
        "\"max_uses_per_customer\":%s,\"max_uses_per_day\":null,"
        "\"current_uses\":0,\"compiled_at\":\"2026-01-29 22:55:10\"}",
        n % 5 == 0 ? "3" : "null");
}

char *fake_cms_make_full_body(const char *store_id, const char *company_id,
                              const char *prefix, size_t first, size_t count,
                              size_t *length_out)
{
    struct text t = { NULL, 0, 0 };

    put(&t, "{\"%s\":{\"promotions\":[", store_id);
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            put(&t, ",");
        put_promotion(&t, store_id, company_id, prefix, first + i);
    }
    put(&t,
        "],\"holidays\":[{\"date\":\"2026-12-25\",\"name\":\"Hari Raya "
        "Natal\"}],\"sync_token\":\"%s-%zu-%zu\",\"server_time\":"
        "\"2026-01-30T06:00:00+07:00\"}}",
        prefix, first, count);
    if (length_out != NULL)
        *length_out = t.length;
    return t.data;
}
