/*
 * cms.c - the CMS client: one JSON POST over libcurl, with a bearer
 * token, connect and total timeouts, TLS verification always on (a CA
 * file may be named), and the answer's Date and X-CMS-Version kept.
 *
 * Every way the exchange can fail ends in a status and a sentence a store
 * manager can act on: "timed out after 30 s", "cannot connect to
 * cms.example.com: Connection refused", "connection closed after 1234 of
 * 5678 bytes", "CMS answered HTTP 500". The body is read into one buffer,
 * sized from Content-Length when the CMS sends it, capped at CMS_BODY_MAX.
 * Thread-safe: each call uses its own curl handle.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/mem.h"
#include "sync/internal.h"

/* The body being received. */
struct body_sink {
    char *data;      /* owned; NUL-terminated */
    size_t length;   /* bytes received */
    size_t capacity; /* bytes allocated, the NUL's included */
    bool too_large;  /* the CMS sent more than CMS_BODY_MAX */
};

/* What the callbacks of one transfer share. */
struct transfer {
    struct body_sink body;     /* the answer's body */
    struct cms_response *out;  /* headers go here */
    const atomic_bool *cancel; /* abort when set; may be NULL */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void cms_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

static bool sink_reserve(struct body_sink *sink, size_t wanted)
{
    char *bigger;

    if (wanted <= sink->capacity)
        return true;
    if (wanted > CMS_BODY_MAX + 1) {
        sink->too_large = true;
        return false;
    }
    bigger = ep_reallocarray(sink->data, wanted, 1);
    if (bigger == NULL)
        return false;
    sink->data = bigger;
    sink->capacity = wanted;
    return true;
}

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    struct transfer *t = user;
    struct body_sink *sink = &t->body;
    size_t n = size * count;
    size_t wanted = sink->capacity < 65536 ? 65536 : sink->capacity;

    while (wanted < sink->length + n + 1 && wanted <= CMS_BODY_MAX)
        wanted *= 2;
    if (!sink_reserve(sink, wanted < sink->length + n + 1 ? sink->length + n + 1
                                                          : wanted))
        return 0;
    memcpy(sink->data + sink->length, data, n);
    sink->length += n;
    sink->data[sink->length] = '\0';
    return n;
}

/* Keeps the value of header name, trimmed, if line is that header. */
static void keep_header(const char *line, size_t length, const char *name,
                        char out[CMS_HEADER_TEXT_MAX])
{
    size_t name_length = strlen(name);
    size_t n;

    if (length <= name_length || line[name_length] != ':' ||
        strncasecmp(line, name, name_length) != 0)
        return;
    line += name_length + 1;
    length -= name_length + 1;
    while (length > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        length--;
    }
    while (length > 0 && (line[length - 1] == '\r' ||
                          line[length - 1] == '\n' || line[length - 1] == ' '))
        length--;
    n = length < CMS_HEADER_TEXT_MAX - 1 ? length : CMS_HEADER_TEXT_MAX - 1;
    memcpy(out, line, n);
    out[n] = '\0';
}

/* Keeps Date and X-CMS-Version; sizes the body from Content-Length. */
static size_t on_header(char *line, size_t size, size_t count, void *user)
{
    struct transfer *t = user;
    size_t n = size * count;
    char length_text[CMS_HEADER_TEXT_MAX] = "";
    unsigned long long announced;

    keep_header(line, n, "Date", t->out->date);
    keep_header(line, n, "X-CMS-Version", t->out->version);
    keep_header(line, n, "Content-Length", length_text);
    if (length_text[0] != '\0' &&
        sscanf(length_text, "%llu", &announced) == 1 &&
        announced <= CMS_BODY_MAX)
        sink_reserve(&t->body, (size_t)announced + 1);
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct transfer *t = user;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return t->cancel != NULL && atomic_load(t->cancel) ? 1 : 0;
}

/* Sets the options of the exchange; false if libcurl refused one. */
static bool set_options(CURL *curl, const struct cms_request *req,
                        struct curl_slist *headers, struct transfer *t)
{
    CURLcode rc = CURLE_OK;

#define SET(option, value) \
    if (rc == CURLE_OK)    \
    rc = curl_easy_setopt(curl, option, value)
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, req->body);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT, req->connect_timeout_s);
    SET(CURLOPT_TIMEOUT, req->timeout_s);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, t);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, t);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_USERAGENT, "edgepromo/" EP_VERSION);
    if (req->ca_file != NULL && req->ca_file[0] != '\0')
        SET(CURLOPT_CAINFO, req->ca_file);
#undef SET
    return rc == CURLE_OK;
}

/* The request headers; the token is never logged. */
static struct curl_slist *make_headers(const char *token)
{
    const char *fixed[] = { "Content-Type: application/json",
                            "Accept: application/json" };
    struct curl_slist *list = NULL;
    struct curl_slist *next;
    char auth[1024];
    size_t count = token != NULL && token[0] != '\0' ? 3 : 2;

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             token != NULL ? token : "");
    for (size_t i = 0; i < count; i++) {
        next = curl_slist_append(list, i < 2 ? fixed[i] : auth);
        if (next == NULL) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

/* Turns a failed transfer into a status and a sentence. */
static enum ep_status transfer_error(CURL *curl, CURLcode rc,
                                     const struct cms_request *req,
                                     const struct transfer *t,
                                     struct ep_error *err)
{
    curl_off_t expected = -1;
    curl_off_t connected_us = 0;
    char *host = NULL;

    curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connected_us);
        if (connected_us == 0)
            return ep_error_set(err, EP_ERR_TIMEOUT, NULL,
                                "CMS connect timed out after %ld s",
                                req->connect_timeout_s);
        return ep_error_set(err, EP_ERR_TIMEOUT, NULL,
                            "CMS request timed out after %ld s (%zu bytes "
                            "received)",
                            req->timeout_s, t->body.length);
    case CURLE_PARTIAL_FILE:
        return ep_error_set(err, EP_ERR_NETWORK, NULL,
                            "CMS connection closed after %zu of %lld bytes",
                            t->body.length, (long long)expected);
    case CURLE_ABORTED_BY_CALLBACK:
        return ep_error_set(err, EP_ERR_UNAVAILABLE, NULL,
                            "CMS request cancelled");
    case CURLE_WRITE_ERROR:
        return t->body.too_large
                   ? ep_error_set(err, EP_ERR_TOO_LARGE, NULL,
                                  "CMS body larger than %zu bytes",
                                  CMS_BODY_MAX)
                   : ep_error_set(err, EP_ERR_NOMEM, NULL,
                                  "out of memory reading the CMS body");
    default:
        curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &host);
        return ep_error_set(
            err, EP_ERR_NETWORK, NULL, "cannot reach the CMS at %s: %s",
            host != NULL ? host : req->url, curl_easy_strerror(rc));
    }
}

/* Judges the HTTP status of a completed exchange. */
static enum ep_status answer_status(long http_status, struct ep_error *err)
{
    if (http_status >= 200 && http_status < 300)
        return EP_OK;
    if (http_status == 410)
        return ep_error_set(err, EP_ERR_CMS_GONE, NULL,
                            "CMS answered HTTP 410 (sync cursor gone)");
    return ep_error_set(err, EP_ERR_CMS, NULL, "CMS answered HTTP %ld",
                        http_status);
}

enum ep_status cms_post(const struct cms_request *req, struct cms_response *out,
                        struct ep_error *err)
{
    struct transfer t;
    struct curl_slist *headers = NULL;
    CURL *curl = NULL;
    CURLcode rc;
    enum ep_status status;

    cms_global_init();
    memset(out, 0, sizeof(*out));
    memset(&t, 0, sizeof(t));
    t.out = out;
    t.cancel = req->cancel;
    curl = curl_easy_init();
    headers = make_headers(req->token);
    if (curl == NULL || headers == NULL ||
        !set_options(curl, req, headers, &t)) {
        status = ep_error_set(err, EP_ERR_NOMEM, NULL,
                              "cannot set up the CMS request");
        goto out;
    }
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->http_status);
    status = rc != CURLE_OK ? transfer_error(curl, rc, req, &t, err)
                            : answer_status(out->http_status, err);
    if (status == EP_OK && !sink_reserve(&t.body, 1))
        status = ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
out:
    if (status == EP_OK) {
        t.body.data[t.body.length] = '\0';
        out->body = t.body.data;
        out->length = t.body.length;
    } else {
        ep_free(t.body.data);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return status;
}

void cms_response_deinit(struct cms_response *response)
{
    if (response == NULL)
        return;
    ep_free(response->body);
    response->body = NULL;
    response->length = 0;
}

bool cms_date_to_rfc3339(const char *http_date, char out[CMS_HEADER_TEXT_MAX])
{
    time_t when;
    struct tm utc;

    if (http_date == NULL || http_date[0] == '\0')
        return false;
    when = curl_getdate(http_date, NULL);
    if (when < 0 || gmtime_r(&when, &utc) == NULL)
        return false;
    strftime(out, CMS_HEADER_TEXT_MAX, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return true;
}
