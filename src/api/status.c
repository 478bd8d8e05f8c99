/*
 * status.c - GET /status: one HTML page for the store's staff and IT, served
 * by edgepromo itself, so it works with the internet down (no external
 * script, style, font or image: everything is inline).
 *
 * Sign-in is HTTP Basic auth: any user name, a terminal token (api_tokens)
 * as the password, compared in constant time. Without it the answer is 401
 * with WWW-Authenticate, so a browser asks.
 *
 * The page, top to bottom: the sync banner (how long since the last good
 * sync; marked stale past 3 x sync_interval, and the cause when the last
 * run failed), the last syncs with their results and causes, the
 * promotions in force now with their windows, today's uses of each
 * promotion against its limits, and the recent errors (recent.c). It
 * refreshes itself every STATUS_REFRESH_S seconds and is laid out for a
 * tablet held upright (800 px): one column, large type, wide tables scroll
 * sideways in their card. Every text that came from the CMS or the
 * database is HTML-escaped.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "common/localtime.h"
#include "sync/sync.h"

#define STATUS_REFRESH_S  30
#define STATUS_SYNC_ROWS  10
#define STATUS_USAGE_MAX  500
#define STATUS_AUTH_MAX   512
#define STATUS_STALE_MULT 3

/* What the page shows, gathered before any HTML is written. */
struct status_page {
    int64_t now;                   /* epoch seconds */
    char today[EP_DATE_TEXT_MAX];  /* store-local date */
    struct store *store;           /* NULL when the database is down */
    struct promo_set *set;         /* NULL before the first snapshot */
    struct store_sync_state state; /* cursor and last good sync */
    struct store_sync_log *syncs;  /* newest first, arena */
    size_t sync_count;             /* entries in syncs */
    int64_t stale_after_s;         /* 3 x sync_interval */
};

/* ---- HTTP Basic auth --------------------------------------------------- */

static int base64_value(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *at = c != '\0' ? strchr(alphabet, c) : NULL;

    return at != NULL ? (int)(at - alphabet) : -1;
}

/* Decodes base64 text (padding optional); false when malformed or long. */
static bool base64_decode(const char *in, char *out, size_t size,
                          size_t *len_out)
{
    unsigned bits = 0;
    int have = 0;
    size_t len = 0;

    for (; *in != '\0' && *in != '='; in++) {
        int v = base64_value(*in);
        if (v < 0)
            return false;
        bits = (bits << 6) | (unsigned)v;
        have += 6;
        if (have >= 8) {
            have -= 8;
            if (len + 1 >= size)
                return false;
            out[len++] = (char)((bits >> have) & 0xFF);
        }
    }
    out[len] = '\0';
    *len_out = len;
    return true;
}

/* True for "Authorization: Basic base64(user:token)" with a known token. */
static bool is_signed_in(const struct api_call *call)
{
    const char *value = api_call_header(call, "Authorization");
    char decoded[STATUS_AUTH_MAX];
    const char *colon;
    size_t len = 0;
    bool ok;

    if (value == NULL || strncasecmp(value, "Basic ", 6) != 0)
        return false;
    value += 6;
    while (*value == ' ')
        value++;
    if (!base64_decode(value, decoded, sizeof(decoded), &len))
        return false;
    colon = memchr(decoded, ':', len);
    ok = colon != NULL && colon + 1 < decoded + len &&
         ep_config_token_is_valid(call->server->config, colon + 1,
                                  (size_t)(decoded + len - colon - 1));
    explicit_bzero(decoded, sizeof(decoded));
    return ok;
}

static enum ep_status answer_sign_in(struct api_call *call)
{
    call->http_status = 401;
    call->content_type = "text/html; charset=utf-8";
    call->authenticate = "Basic realm=\"edgepromo status\", charset=\"UTF-8\"";
    ep_buf_puts(call->out,
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                "<title>edgepromo: sign in</title></head><body>"
                "<p>Sign in with any user name and a terminal token as the "
                "password.</p></body></html>\n");
    return EP_OK;
}

/* ---- HTML helpers ------------------------------------------------------ */

/* Writes text with & < > " ' escaped; NULL writes fallback (trusted). */
static void html(struct ep_buf *out, const char *text, const char *fallback)
{
    if (text == NULL) {
        ep_buf_puts(out, fallback);
        return;
    }
    for (const char *p = text; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            ep_buf_puts(out, "&amp;");
            break;
        case '<':
            ep_buf_puts(out, "&lt;");
            break;
        case '>':
            ep_buf_puts(out, "&gt;");
            break;
        case '"':
            ep_buf_puts(out, "&quot;");
            break;
        case '\'':
            ep_buf_puts(out, "&#39;");
            break;
        default:
            ep_buf_putc(out, *p);
        }
    }
}

/* Writes an instant as the store's wall clock, "2026-11-26 01:10:59". */
static void html_local_time(struct ep_buf *out, int64_t at)
{
    char text[EP_TIMESTAMP_TEXT_MAX];

    ep_timestamp_format_rfc3339(at, text);
    text[10] = ' ';
    text[19] = '\0';
    ep_buf_puts(out, text);
}

/* Writes a duration for people: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
static void html_age(struct ep_buf *out, int64_t s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        ep_buf_printf(out, "%lld s", (long long)s);
    else if (s < 3600)
        ep_buf_printf(out, "%lld min", (long long)(s / 60));
    else if (s < 86400)
        ep_buf_printf(out, "%lld h %lld min", (long long)(s / 3600),
                      (long long)(s % 3600 / 60));
    else
        ep_buf_printf(out, "%lld d %lld h", (long long)(s / 86400),
                      (long long)(s % 86400 / 3600));
}

/* Reads the store's UTC text (milliseconds allowed) as epoch seconds. */
static bool utc_epoch(const char *text, int64_t *out)
{
    char whole[20];

    if (text == NULL || strlen(text) < 19)
        return false;
    memcpy(whole, text, 19);
    whole[19] = '\0';
    return api_utc_text_to_epoch(whole, out);
}

/* Writes a UTC text time of the store as local time, or "-". */
static void html_store_time(struct ep_buf *out, const char *utc_text)
{
    int64_t at;

    if (utc_epoch(utc_text, &at))
        html_local_time(out, at);
    else
        html(out, utc_text, "-");
}

static const char status_style[] =
    "*{box-sizing:border-box}"
    "body{font:18px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "margin:0;padding:12px;background:#eef0f3;color:#15181c}"
    "h1{font-size:26px;margin:4px 0 2px}h2{font-size:21px;margin:0 0 8px}"
    ".sub{color:#555;font-size:15px;margin-bottom:12px}"
    ".card{background:#fff;border-radius:10px;padding:14px;margin:0 0 14px;"
    "box-shadow:0 1px 3px #0002;max-width:1100px}"
    ".banner{font-size:22px;font-weight:600;border-left:10px solid #1b7f3b}"
    ".banner.stale{border-color:#c0142b;background:#fff1f2}"
    ".banner.warn{border-color:#b26a00;background:#fff8e6}"
    ".scroll{overflow-x:auto}"
    "table{border-collapse:collapse;width:100%;font-size:16px}"
    "th,td{padding:7px 8px;border-bottom:1px solid #e2e4e8;text-align:left;"
    "vertical-align:top}th{background:#f6f7f9;white-space:nowrap}"
    ".n{text-align:right;white-space:nowrap}.nw{white-space:nowrap}"
    ".ok{color:#1b7f3b;font-weight:600}.bad{color:#c0142b;font-weight:700}"
    ".warn{color:#b26a00;font-weight:700}.muted{color:#666}"
    ".cause{color:#c0142b}.causerow td{border-top:0}"
    ".promos{list-style:none;margin:0;padding:0}"
    ".promos li{padding:8px 0;border-bottom:1px solid #e2e4e8}"
    ".promos .sub{margin:2px 0 0}";

static void write_head(struct ep_buf *out)
{
    ep_buf_printf(out,
                  "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                  "<meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, "
                  "initial-scale=1\">"
                  "<meta http-equiv=\"refresh\" content=\"%d\">"
                  "<title>edgepromo status</title><style>%s</style>"
                  "</head><body>\n",
                  STATUS_REFRESH_S, status_style);
}

/* ---- gathering --------------------------------------------------------- */

/* Reads what the database holds; leaves page->store NULL if it is down. */
static void gather_database(struct api_call *call, struct status_page *page)
{
    const struct ep_config *config = call->server->config;
    struct store *store = NULL;
    enum ep_status status = api_call_store(call, &store);

    if (status == EP_OK)
        status =
            store_sync_state_get(store, config->company_id, config->store_id,
                                 call->arena, &page->state, &call->err);
    if (status == EP_OK)
        status = store_sync_log_recent(
            store, config->store_id, STATUS_SYNC_ROWS, call->arena,
            &page->syncs, &page->sync_count, &call->err);
    page->store = status == EP_OK ? store : NULL;
}

static void gather(struct api_call *call, struct status_page *page)
{
    struct ep_local_time local;

    memset(page, 0, sizeof(*page));
    page->now = ep_now();
    ep_local_time_of(page->now, &local);
    ep_date_format(local.date, page->today);
    page->stale_after_s =
        STATUS_STALE_MULT * (int64_t)call->server->config->sync_interval;
    gather_database(call, page);
    page->set = engine_slot_acquire(call->server->slot);
}

/* ---- sections ---------------------------------------------------------- */

static void write_title(struct api_call *call, const struct status_page *page)
{
    const struct ep_config *config = call->server->config;
    struct ep_buf *out = call->out;

    ep_buf_puts(out, "<h1>Promotions server status</h1><div class=\"sub\">"
                     "Store <b>");
    html(out, config->store_id, "-");
    ep_buf_puts(out, "</b><br>");
    html_local_time(out, page->now);
    ep_buf_printf(out,
                  " (%s) &middot; version %s &middot; refreshes every "
                  "%d s &middot; ",
                  config->timezone != NULL ? config->timezone : "system time",
                  EP_VERSION, STATUS_REFRESH_S);
    if (page->store == NULL)
        ep_buf_puts(out, "<span class=\"bad\">database not reachable</span>");
    else if (page->set == NULL)
        ep_buf_puts(out, "<span class=\"bad\">no promotions loaded</span>");
    else
        ep_buf_printf(out,
                      "<span class=\"ok\">ready</span>, %zu promotions "
                      "loaded",
                      promo_set_count(page->set));
    ep_buf_puts(out, "</div>\n");
}

/* The newest sync row if it failed, else NULL. */
static const struct store_sync_log *last_failure(const struct status_page *p)
{
    if (p->sync_count == 0 || p->syncs[0].sync_status == NULL ||
        strcmp(p->syncs[0].sync_status, "failed") != 0)
        return NULL;
    return &p->syncs[0];
}

/* The scheduler's line: failures in a row and the next run. */
static void write_scheduler(struct api_server *server, struct ep_buf *out)
{
    struct sync_scheduler_stats stats;

    if (server->scheduler == NULL) {
        ep_buf_puts(out, "<div class=\"muted\">No CMS configured (cms_url): "
                         "promotions change only by <code>edgepromo sync "
                         "--from FILE</code>.</div>");
        return;
    }
    sync_scheduler_stats_get(server->scheduler, &stats);
    ep_buf_printf(out, "<div class=\"sub\">Next sync in %lld s",
                  (long long)(stats.next_in_ms / 1000));
    if (stats.failures_in_row > 0)
        ep_buf_printf(out,
                      " &middot; <span class=\"bad\">%d failed "
                      "attempt%s in a row</span>",
                      stats.failures_in_row,
                      stats.failures_in_row == 1 ? "" : "s");
    ep_buf_puts(out, "</div>");
}

static void write_banner(struct api_call *call, const struct status_page *page)
{
    const struct store_sync_log *failed = last_failure(page);
    struct ep_buf *out = call->out;
    int64_t at = 0;
    bool synced =
        page->store != NULL && utc_epoch(page->state.last_success_at, &at);
    bool stale = !synced || page->now - at > page->stale_after_s;

    ep_buf_printf(out, "<div class=\"card banner%s\" id=\"sync-banner\">",
                  stale ? " stale" : (failed != NULL ? " warn" : ""));
    if (!synced) {
        ep_buf_puts(out, "<span class=\"bad\">STALE:</span> no good sync "
                         "recorded yet");
    } else {
        ep_buf_puts(out, stale ? "<span class=\"bad\">STALE:</span> last "
                                 "good sync "
                               : "<span class=\"ok\">Sync OK:</span> last "
                                 "good sync ");
        html_age(out, page->now - at);
        ep_buf_puts(out, " ago (");
        html_local_time(out, at);
        ep_buf_puts(out, ")");
    }
    ep_buf_puts(out, "<div class=\"sub\">Marked stale after ");
    html_age(out, page->stale_after_s);
    ep_buf_puts(out, " (3 &times; sync_interval).</div>");
    if (failed != NULL) {
        ep_buf_puts(out, "<div class=\"cause\">Last sync failed: ");
        html(out, failed->error_message, "no cause recorded");
        ep_buf_puts(out, "</div>");
    }
    write_scheduler(call->server, out);
    ep_buf_puts(out, "</div>\n");
}

static const char *status_class(const char *sync_status)
{
    if (sync_status != NULL && strcmp(sync_status, "success") == 0)
        return "ok";
    if (sync_status != NULL && strcmp(sync_status, "partial") == 0)
        return "warn";
    return "bad";
}

static void write_sync_row(struct ep_buf *out, const struct store_sync_log *r)
{
    ep_buf_puts(out, "<tr><td class=\"nw\">");
    html_store_time(out, r->started_at);
    ep_buf_puts(out, "</td><td>");
    html(out, r->sync_type, "-");
    ep_buf_printf(out, " <span class=\"%s\">", status_class(r->sync_status));
    html(out, r->sync_status, "-");
    ep_buf_printf(out,
                  "</span></td><td>%lld received<br><span class=\"muted\">"
                  "+%lld ~%lld &minus;%lld, %lld skipped</span></td>"
                  "<td class=\"n\">%lld ms</td></tr>\n",
                  (long long)r->received, (long long)r->added,
                  (long long)r->updated, (long long)r->deleted,
                  (long long)r->skipped, (long long)r->duration_ms);
    if (r->error_message == NULL)
        return;
    ep_buf_puts(out, "<tr class=\"causerow\"><td></td><td colspan=\"3\" "
                     "class=\"cause\">Cause: ");
    html(out, r->error_message, "");
    ep_buf_puts(out, "</td></tr>\n");
}

static void write_syncs(struct ep_buf *out, const struct status_page *page)
{
    ep_buf_puts(out, "<div class=\"card\" id=\"syncs\"><h2>Last syncs</h2>");
    if (page->sync_count == 0) {
        ep_buf_puts(out, "<p class=\"muted\">No sync has run yet.</p></div>\n");
        return;
    }
    ep_buf_puts(out, "<div class=\"scroll\"><table><tr><th>Started</th>"
                     "<th>Sync</th><th>Promotions</th><th>Took</th></tr>\n");
    for (size_t i = 0; i < page->sync_count; i++)
        write_sync_row(out, &page->syncs[i]);
    ep_buf_puts(out, "</table></div></div>\n");
}

/* Writes the valid_days JSON array as "monday, friday". */
static void html_days(struct ep_buf *out, const char *days_json)
{
    json_t *days = days_json ? json_loads(days_json, 0, NULL) : NULL;
    size_t i;
    json_t *day;

    if (!json_is_array(days) || json_array_size(days) == 0) {
        ep_buf_puts(out, "every day");
        json_decref(days);
        return;
    }
    json_array_foreach(days, i, day)
    {
        ep_buf_puts(out, i > 0 ? ", " : "");
        html(out, json_string_value(day), "?");
    }
    json_decref(days);
}

/* Writes a stored time "HH:MM:SS" as "HH:MM" (fallback when none). */
static void html_clock(struct ep_buf *out, const char *text,
                       const char *fallback)
{
    char clock[6];

    if (text == NULL || text[0] == '\0') {
        ep_buf_puts(out, fallback);
        return;
    }
    snprintf(clock, sizeof(clock), "%s", text);
    html(out, clock, fallback);
}

/* Writes "2026-01-01 to 2026-12-31 · 07:00–10:00 · monday". */
static void write_window(struct ep_buf *out, const struct promo_record *r)
{
    html(out, r->start_date, "open");
    ep_buf_puts(out, " to ");
    html(out, r->end_date, "open");
    ep_buf_puts(out, " &middot; <span class=\"nw\">");
    if ((r->time_start == NULL || r->time_start[0] == '\0') &&
        (r->time_end == NULL || r->time_end[0] == '\0')) {
        ep_buf_puts(out, "all day");
    } else {
        html_clock(out, r->time_start, "00:00");
        ep_buf_puts(out, "&ndash;");
        html_clock(out, r->time_end, "24:00");
    }
    ep_buf_puts(out, "</span> &middot; ");
    html_days(out, r->valid_days_json);
    if (r->exclude_holidays)
        ep_buf_puts(out, ", not on holidays");
}

static void write_active_row(struct ep_buf *out, const struct promo_record *r)
{
    ep_buf_puts(out, "<li><b>");
    html(out, r->code, "-");
    ep_buf_puts(out, "</b> &mdash; ");
    html(out, r->name, "-");
    ep_buf_puts(out, "<div class=\"sub\">");
    html(out, r->promo_type, "-");
    ep_buf_puts(out, " &middot; ");
    write_window(out, r);
    ep_buf_puts(out, "</div></li>\n");
}

static void write_active(struct ep_buf *out, const struct status_page *page)
{
    size_t shown = 0;

    ep_buf_puts(out, "<div class=\"card\" id=\"active\"><h2>Promotions "
                     "active now</h2>");
    if (page->set == NULL) {
        ep_buf_puts(out, "<p class=\"bad\">No promotions are loaded.</p>"
                         "</div>\n");
        return;
    }
    ep_buf_puts(out, "<ul class=\"promos\">\n");
    for (size_t i = 0; i < promo_set_count(page->set); i++) {
        if (!promo_set_is_active_at(page->set, i, page->now, NULL))
            continue;
        write_active_row(out, promo_set_record(page->set, i));
        shown++;
    }
    ep_buf_puts(out, "</ul>");
    if (shown == 0)
        ep_buf_puts(out, "<p class=\"muted\">None at this hour.</p>");
    ep_buf_puts(out, "</div>\n");
}

/* Writes "used / limit" with a class when the limit is near or reached. */
static void html_against(struct ep_buf *out, int64_t used, bool has_limit,
                         int64_t limit)
{
    const char *cls = "n";

    if (has_limit && used >= limit)
        cls = "n bad";
    else if (has_limit && used * 10 >= limit * 8)
        cls = "n warn";
    ep_buf_printf(out, "<td class=\"%s\">%lld", cls, (long long)used);
    if (has_limit)
        ep_buf_printf(out, " / %lld", (long long)limit);
    else
        ep_buf_puts(out, " <span class=\"muted\">(no limit)</span>");
    ep_buf_puts(out, "</td>");
}

static void write_usage_row(struct ep_buf *out, const struct promo_record *r,
                            const struct store_usage_summary *s)
{
    ep_buf_puts(out, "<tr><td class=\"nw\"><b>");
    html(out, r->code, "-");
    ep_buf_puts(out, "</b></td>");
    html_against(out, s->today_uses, r->has_max_uses_per_day,
                 r->max_uses_per_day);
    html_against(out, s->current_uses, r->has_max_uses, r->max_uses);
    if (r->has_max_uses_per_customer)
        ep_buf_printf(out, "<td class=\"n\">%lld</td>",
                      (long long)r->max_uses_per_customer);
    else
        ep_buf_puts(out, "<td class=\"n muted\">-</td>");
    ep_buf_puts(out, "</tr>\n");
}

/* One row per promotion in force now or used today. */
static void write_usage_rows(struct api_call *call,
                             const struct status_page *page, size_t *shown)
{
    size_t count = promo_set_count(page->set);

    for (size_t i = 0; i < count && *shown < STATUS_USAGE_MAX; i++) {
        const struct promo_record *r = promo_set_record(page->set, i);
        struct store_usage_summary s;
        if (store_usage_summary_get(page->store, r->id, page->today, NULL, &s,
                                    &call->err) != EP_OK)
            return;
        if (s.today_uses == 0 &&
            !promo_set_is_active_at(page->set, i, page->now, NULL))
            continue;
        write_usage_row(call->out, r, &s);
        (*shown)++;
    }
}

static void write_usage(struct api_call *call, const struct status_page *page)
{
    struct ep_buf *out = call->out;
    size_t shown = 0;

    ep_buf_puts(out, "<div class=\"card\" id=\"usage\"><h2>Uses today (");
    ep_buf_puts(out, page->today);
    ep_buf_puts(out, ")</h2>");
    if (page->set == NULL || page->store == NULL) {
        ep_buf_puts(out, "<p class=\"muted\">Not available.</p></div>\n");
        return;
    }
    ep_buf_puts(out, "<div class=\"scroll\"><table><tr><th>Code</th>"
                     "<th>Today / per-day limit</th><th>All time / total "
                     "limit</th><th>Per customer limit</th></tr>\n");
    write_usage_rows(call, page, &shown);
    ep_buf_puts(out, "</table></div>");
    if (shown == 0)
        ep_buf_puts(out, "<p class=\"muted\">No promotion active or used "
                         "today.</p>");
    ep_buf_puts(out, "</div>\n");
}

static void write_error_row(struct ep_buf *out,
                            const struct api_recent_event *e)
{
    ep_buf_puts(out, "<tr><td class=\"nw\">");
    html_local_time(out, e->at);
    ep_buf_puts(out, "</td><td>");
    if (e->http_status == 0)
        ep_buf_puts(out, "sync ");
    html(out, e->what, "-");
    if (e->http_status != 0)
        ep_buf_printf(out, " (HTTP %u)", e->http_status);
    ep_buf_puts(out, "</td><td class=\"cause\">");
    html(out, e->message, "");
    ep_buf_puts(out, "</td></tr>\n");
}

static void write_errors(struct api_call *call)
{
    struct api_recent_event events[API_RECENT_MAX];
    size_t count = api_recent_copy(call->server, events, API_RECENT_MAX);
    struct ep_buf *out = call->out;

    ep_buf_puts(out, "<div class=\"card\" id=\"errors\"><h2>Recent errors"
                     "</h2>");
    if (count == 0) {
        ep_buf_puts(out, "<p class=\"muted\">None since the server started."
                         "</p></div>\n");
        return;
    }
    ep_buf_puts(out, "<div class=\"scroll\"><table><tr><th>When</th>"
                     "<th>What</th><th>Cause</th></tr>\n");
    for (size_t i = 0; i < count; i++)
        write_error_row(out, &events[i]);
    ep_buf_puts(out, "</table></div></div>\n");
}

static void write_database_down(struct api_call *call)
{
    ep_buf_puts(call->out, "<div class=\"card banner stale\">Database not "
                           "reachable: ");
    html(call->out, call->err.message, "unknown cause");
    ep_buf_puts(call->out, "</div>\n");
}

enum ep_status api_handle_status(struct api_call *call)
{
    struct status_page page;

    if (!is_signed_in(call))
        return answer_sign_in(call);
    gather(call, &page);
    call->content_type = "text/html; charset=utf-8";
    write_head(call->out);
    write_title(call, &page);
    if (page.store == NULL)
        write_database_down(call);
    write_banner(call, &page);
    write_syncs(call->out, &page);
    write_active(call->out, &page);
    write_usage(call, &page);
    write_errors(call);
    ep_buf_puts(call->out, "</body></html>\n");
    if (page.set != NULL)
        promo_set_release(page.set);
    return EP_OK;
}
