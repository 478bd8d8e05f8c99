/* log.c - the key=value line logger of log.h. */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static atomic_int log_level = EP_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error",
                                           "off" };

void ep_log_set_level(enum ep_log_level level)
{
    atomic_store(&log_level, (int)level);
}

bool ep_log_level_parse(const char *text, enum ep_log_level *out)
{
    for (int i = 0; i <= EP_LOG_OFF; i++) {
        if (text != NULL && strcmp(text, level_names[i]) == 0) {
            *out = (enum ep_log_level)i;
            return true;
        }
    }
    return false;
}

bool ep_log_enabled(enum ep_log_level level)
{
    return (int)level >= atomic_load(&log_level) && level != EP_LOG_OFF;
}

/* Replaces control characters so that the line stays one line. */
static void escape_controls(char *line)
{
    for (char *p = line; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    }
}

void ep_log(enum ep_log_level level, const char *event, const char *fields, ...)
{
    char line[LOG_LINE_MAX];
    struct timespec now;
    struct tm tm;
    size_t len;
    va_list ap;

    if (!ep_log_enabled(level))
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    len = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
    len += (size_t)snprintf(line + len, sizeof(line) - len,
                            ".%03ldZ level=%s event=%s ", now.tv_nsec / 1000000,
                            level_names[level], event);
    va_start(ap, fields);
    vsnprintf(line + len, sizeof(line) - len, fields, ap);
    va_end(ap);
    escape_controls(line);
    len = strlen(line);
    if (len > 0 && line[len - 1] == ' ')
        len--;
    line[len++] = '\n';
    if (write(STDERR_FILENO, line, len) < 0)
        return;
}

const char *ep_log_quote(const char *text, char *out, size_t out_size)
{
    size_t pos = 0;

    if (out_size < 3) {
        if (out_size > 0)
            out[0] = '\0';
        return out;
    }
    out[pos++] = '"';
    for (const char *p = text ? text : ""; *p != '\0'; p++) {
        bool escape = *p == '"' || *p == '\\';
        if (pos + (escape ? 2u : 1u) + 2 > out_size)
            break;
        if (escape)
            out[pos++] = '\\';
        out[pos++] = *p;
    }
    out[pos++] = '"';
    out[pos] = '\0';
    return out;
}
