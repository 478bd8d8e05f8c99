/* buf.c - the bounded growable buffer of buf.h and its JSON writers. */
#include "common/buf.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/money.h"

void ep_buf_init(struct ep_buf *buf, size_t max)
{
    assert(buf != NULL);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max = max;
    buf->status = EP_OK;
}

void ep_buf_deinit(struct ep_buf *buf)
{
    if (buf == NULL)
        return;
    ep_free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void ep_buf_reset(struct ep_buf *buf)
{
    buf->len = 0;
    buf->status = EP_OK;
    if (buf->data != NULL)
        buf->data[0] = '\0';
}

enum ep_status ep_buf_status(const struct ep_buf *buf)
{
    return buf->status;
}

char *ep_buf_take(struct ep_buf *buf, size_t *len_out)
{
    char *data;

    if (buf->status != EP_OK || buf->data == NULL)
        return NULL;
    data = buf->data;
    if (len_out != NULL)
        *len_out = buf->len;
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return data;
}

/* Makes room for extra more bytes plus the NUL; false on failure. */
static bool buf_reserve(struct ep_buf *buf, size_t extra)
{
    size_t need;
    size_t cap;
    char *grown;

    if (buf->status != EP_OK)
        return false;
    if (extra > buf->max - buf->len || buf->len > buf->max) {
        buf->status = EP_ERR_TOO_LARGE;
        return false;
    }
    need = buf->len + extra + 1;
    if (need <= buf->cap)
        return true;
    cap = buf->cap < 256 ? 256 : buf->cap;
    while (cap < need)
        cap = cap * 2;
    if (cap > buf->max + 1)
        cap = buf->max + 1;
    grown = ep_reallocarray(buf->data, cap, 1);
    if (grown == NULL) {
        buf->status = EP_ERR_NOMEM;
        return false;
    }
    buf->data = grown;
    buf->cap = cap;
    return true;
}

void ep_buf_append(struct ep_buf *buf, const void *data, size_t len)
{
    if ((buf->len + len >= buf->cap || buf->status != EP_OK) &&
        !buf_reserve(buf, len))
        return;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void ep_buf_puts(struct ep_buf *buf, const char *s)
{
    ep_buf_append(buf, s, strlen(s));
}

void ep_buf_putc(struct ep_buf *buf, char c)
{
    if (buf->len + 1 < buf->cap && buf->status == EP_OK) {
        buf->data[buf->len++] = c;
        buf->data[buf->len] = '\0';
        return;
    }
    ep_buf_append(buf, &c, 1);
}

void ep_buf_printf(struct ep_buf *buf, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(buf, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
}

static void buf_json_escape_char(struct ep_buf *buf, unsigned char c)
{
    switch (c) {
    case '"':
        ep_buf_puts(buf, "\\\"");
        break;
    case '\\':
        ep_buf_puts(buf, "\\\\");
        break;
    case '\n':
        ep_buf_puts(buf, "\\n");
        break;
    case '\r':
        ep_buf_puts(buf, "\\r");
        break;
    case '\t':
        ep_buf_puts(buf, "\\t");
        break;
    default:
        ep_buf_printf(buf, "\\u%04x", c);
        break;
    }
}

/* Length of the valid UTF-8 sequence of 2 to 4 bytes at p, or 0. */
static size_t utf8_length(const unsigned char *p)
{
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    size_t n;

    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (p[0] == 0xE0 || p[0] == 0xF0)
        lo = p[0] == 0xE0 ? 0xA0 : 0x90;
    if (p[0] == 0xED || p[0] == 0xF4)
        hi = p[0] == 0xED ? 0x9F : 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    }
    return n;
}

/*
 * Bytes that are not UTF-8 (a message cut in the middle of a character, a
 * value from a file) become U+FFFD, so the output is always valid JSON.
 */
void ep_buf_json_string(struct ep_buf *buf, const char *s)
{
    const char *run;
    size_t n;

    if (s == NULL) {
        ep_buf_puts(buf, "null");
        return;
    }
    ep_buf_putc(buf, '"');
    run = s;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
            continue;
        n = c >= 0x80 ? utf8_length((const unsigned char *)s) : 0;
        if (n > 0) {
            s += n - 1;
            continue;
        }
        ep_buf_append(buf, run, (size_t)(s - run));
        if (c >= 0x80)
            ep_buf_puts(buf, "\ufffd");
        else
            buf_json_escape_char(buf, c);
        run = s + 1;
    }
    ep_buf_append(buf, run, (size_t)(s - run));
    ep_buf_putc(buf, '"');
}

void ep_buf_json_money(struct ep_buf *buf, int64_t hundredths)
{
    char text[EP_MONEY_TEXT_MAX];

    ep_money_format(hundredths, text);
    ep_buf_puts(buf, text);
}

void ep_buf_json_int(struct ep_buf *buf, int64_t value)
{
    char text[EP_MONEY_TEXT_MAX];

    /* An integer is a money value of whole units, written the same way. */
    if (value > INT64_MAX / 100 || value < INT64_MIN / 100) {
        ep_buf_printf(buf, "%" PRId64, value);
        return;
    }
    ep_money_format(value * 100, text);
    ep_buf_puts(buf, text);
}

void ep_buf_json_bool(struct ep_buf *buf, bool value)
{
    ep_buf_puts(buf, value ? "true" : "false");
}
