/*
 * localtime.c - zone, date and clock conversions on the C library.
 *
 * The tz database does the zone work (localtime_r after setting TZ);
 * timegm/gmtime_r do the calendar arithmetic on day numbers. The only
 * hand-written parsing is of fixed-width text forms.
 */
#include "common/localtime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *tz_directory(void)
{
    const char *dir = getenv("TZDIR");

    return (dir != NULL && dir[0] != '\0') ? dir : "/usr/share/zoneinfo";
}

/*
 * True when path is a tz database file: it starts with "TZif". A folder
 * ("Asia") or another file of the database ("leapseconds") is readable
 * too, but TZ set to it falls back to UTC without a word.
 */
static bool is_tz_file(const char *path)
{
    char magic[4];
    FILE *file = fopen(path, "rb");
    bool ok;

    if (file == NULL)
        return false;
    ok = fread(magic, 1, sizeof(magic), file) == sizeof(magic) &&
         memcmp(magic, "TZif", sizeof(magic)) == 0;
    fclose(file);
    return ok;
}

bool ep_tz_is_known(const char *zone)
{
    char path[512];

    if (zone == NULL || zone[0] == '\0' || zone[0] == '/' ||
        strstr(zone, "..") != NULL || strlen(zone) > 200)
        return false;
    for (const char *p = zone; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && strchr("/_-+", *p) == NULL)
            return false;
    }
    snprintf(path, sizeof(path), "%s/%s", tz_directory(), zone);
    return is_tz_file(path);
}

enum ep_status ep_tz_apply(const char *zone, struct ep_error *err)
{
    if (zone == NULL || zone[0] == '\0') {
        tzset();
        return EP_OK;
    }
    if (!ep_tz_is_known(zone))
        return ep_error_set(err, EP_ERR_CONFIG, "timezone",
                            "timezone: '%s' is not an IANA zone name in %s "
                            "(expected e.g. Asia/Jakarta)",
                            zone, tz_directory());
    if (setenv("TZ", zone, 1) != 0)
        return ep_error_set(err, EP_ERR_NOMEM, "timezone",
                            "timezone: cannot set TZ");
    tzset();
    return EP_OK;
}

int64_t ep_now(void)
{
    return (int64_t)time(NULL);
}

/* Reads exactly n digits at p into *out; false if any is not a digit. */
static bool read_digits(const char *p, int n, int *out)
{
    int value = 0;

    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        value = value * 10 + (p[i] - '0');
    }
    *out = value;
    return true;
}

/* Reads "YYYY-MM-DD" at p into tm fields, checking the calendar. */
static bool read_date(const char *p, struct tm *tm)
{
    int year;
    int month;
    int day;
    struct tm check;
    time_t t;

    if (!read_digits(p, 4, &year) || p[4] != '-' ||
        !read_digits(p + 5, 2, &month) || p[7] != '-' ||
        !read_digits(p + 8, 2, &day))
        return false;
    if (year < 1900 || month < 1 || month > 12 || day < 1 || day > 31)
        return false;
    memset(tm, 0, sizeof(*tm));
    tm->tm_year = year - 1900;
    tm->tm_mon = month - 1;
    tm->tm_mday = day;
    t = timegm(tm);
    gmtime_r(&t, &check);
    return check.tm_mday == day && check.tm_mon == month - 1;
}

/* Reads "HH:MM:SS" at p; returns characters read (8) or 0. */
static int read_clock(const char *p, int *h, int *m, int *s)
{
    if (!read_digits(p, 2, h) || p[2] != ':' || !read_digits(p + 3, 2, m))
        return 0;
    if (*h > 23 || *m > 59)
        return 0;
    if (p[5] != ':') {
        *s = 0;
        return 5;
    }
    if (!read_digits(p + 6, 2, s) || *s > 59)
        return 0;
    return 8;
}

/* Reads the offset part of RFC 3339 ("Z", "+07:00"); seconds east. */
static bool read_offset(const char *p, long *offset)
{
    int h;
    int m;

    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *offset = 0;
        return true;
    }
    if ((*p != '+' && *p != '-') || !read_digits(p + 1, 2, &h) || p[3] != ':' ||
        !read_digits(p + 4, 2, &m) || p[6] != '\0')
        return false;
    if (h > 23 || m > 59)
        return false;
    *offset = (h * 3600L + m * 60L) * (*p == '-' ? -1 : 1);
    return true;
}

enum ep_status ep_time_parse_rfc3339(const char *text, int64_t *out)
{
    struct tm tm;
    int h;
    int m;
    int s;
    int used;
    long offset;
    const char *p;

    if (text == NULL || strlen(text) < 20 || !read_date(text, &tm))
        return EP_ERR_INVALID;
    if (text[10] != 'T' && text[10] != 't' && text[10] != ' ')
        return EP_ERR_INVALID;
    used = read_clock(text + 11, &h, &m, &s);
    if (used != 8)
        return EP_ERR_INVALID;
    p = text + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return EP_ERR_INVALID;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (!read_offset(p, &offset))
        return EP_ERR_INVALID;
    *out = (int64_t)timegm(&tm) + h * 3600 + m * 60 + s - offset;
    return EP_OK;
}

void ep_local_time_of(int64_t instant, struct ep_local_time *out)
{
    time_t t = (time_t)instant;
    struct tm tm;
    struct tm midnight;

    localtime_r(&t, &tm);
    memset(&midnight, 0, sizeof(midnight));
    midnight.tm_year = tm.tm_year;
    midnight.tm_mon = tm.tm_mon;
    midnight.tm_mday = tm.tm_mday;
    out->date = (int32_t)(timegm(&midnight) / EP_SECONDS_PER_DAY);
    out->seconds = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    out->weekday = (tm.tm_wday + 6) % 7;
}

enum ep_status ep_date_parse(const char *text, int32_t *out)
{
    struct tm tm;

    if (text == NULL || strlen(text) != 10 || !read_date(text, &tm))
        return EP_ERR_INVALID;
    *out = (int32_t)(timegm(&tm) / EP_SECONDS_PER_DAY);
    return EP_OK;
}

void ep_date_format(int32_t date, char out[EP_DATE_TEXT_MAX])
{
    time_t t = (time_t)date * EP_SECONDS_PER_DAY;
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, EP_DATE_TEXT_MAX, "%04d-%02d-%02d",
             (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100);
}

int ep_date_weekday(int32_t date)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    int weekday = (int)((date % 7 + 7 + 3) % 7);

    return weekday;
}

enum ep_status ep_clock_parse(const char *text, int32_t *out)
{
    int h;
    int m;
    int s;
    int used;

    if (text == NULL)
        return EP_ERR_INVALID;
    used = read_clock(text, &h, &m, &s);
    if (used == 0 || text[used] != '\0')
        return EP_ERR_INVALID;
    *out = h * 3600 + m * 60 + s;
    return EP_OK;
}

void ep_clock_format(int32_t seconds, char out[EP_CLOCK_TEXT_MAX])
{
    snprintf(out, EP_CLOCK_TEXT_MAX, "%02d:%02d:%02d", (seconds / 3600) % 100,
             (seconds / 60) % 60, seconds % 60);
}

void ep_timestamp_format_utc(int64_t instant, char out[EP_TIMESTAMP_TEXT_MAX])
{
    time_t t = (time_t)instant;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, EP_TIMESTAMP_TEXT_MAX, "%Y-%m-%d %H:%M:%S", &tm);
}

void ep_timestamp_format_rfc3339(int64_t instant,
                                 char out[EP_TIMESTAMP_TEXT_MAX])
{
    time_t t = (time_t)instant;
    struct tm tm;
    char zone[8];

    localtime_r(&t, &tm);
    strftime(out, EP_TIMESTAMP_TEXT_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm);
    /* %z gives +0700; RFC 3339 wants +07:00. */
    snprintf(out + strlen(out), EP_TIMESTAMP_TEXT_MAX - strlen(out),
             "%.3s:%.2s", zone, zone + 3);
}
