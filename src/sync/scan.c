/*
 * scan.c - a strict, in-place JSON scanner for the sync bodies.
 *
 * Why not jansson here: a full sync of 10,000 promotions is a 15 MB body,
 * and building jansson's tree of it takes longer than the whole sync may
 * (SPEC's bench/sync target is 250 ms end to end; jansson alone measured
 * 280 ms on the reference machine). The scanner reads the body once and
 * hands out pointers into it, at several hundred MB/s. jansson is still
 * what the engine compiles rules with, and what small documents use.
 *
 * How "in place" works. A string value is decoded over its own bytes
 * (escapes only ever shrink it) and NUL-terminated where its closing quote
 * was. A value kept as JSON text (json_scan_raw) is copied over itself
 * without the blanks between tokens, so its text also only shrinks; its
 * NUL goes right after the last byte kept. When nothing was dropped, that
 * byte is the delimiter after the value (',' or '}'), which has not been
 * read yet: it is remembered in pending_nul and written as soon as the
 * scanner has moved past it. Only bytes already read are ever written.
 *
 * Checked: the grammar of RFC 8259, UTF-8 in strings, escapes (\u0000 is
 * refused: a C string cannot hold it), nesting at most SCAN_DEPTH_MAX.
 * Errors give the line and column of the byte that broke the grammar.
 */
#include <string.h>

#include "sync/internal.h"

#define SCAN_DEPTH_MAX 64

void json_scan_init(struct json_scan *s, char *text, size_t length,
                    struct ep_error *err)
{
    memset(s, 0, sizeof(*s));
    s->p = text;
    s->end = text + length;
    s->line_start = text;
    s->line = 1;
    s->err = err;
}

void json_scan_settle(struct json_scan *s)
{
    if (s->pending_nul != NULL && s->pending_nul < s->p) {
        *s->pending_nul = '\0';
        s->pending_nul = NULL;
    }
}

enum ep_status json_scan_fail(struct json_scan *s, const char *what)
{
    long column = (long)(s->p - s->line_start) + 1;

    if (s->failed)
        return EP_ERR_INVALID;
    s->failed = true;
    if (s->p >= s->end)
        return ep_error_set(s->err, EP_ERR_INVALID, NULL,
                            "the body is not valid JSON: %s at the end "
                            "of the text (line %ld)",
                            what, s->line);
    return ep_error_set(s->err, EP_ERR_INVALID, NULL,
                        "the body is not valid JSON: %s at line %ld, "
                        "column %ld",
                        what, s->line, column);
}

static void skip_blanks(struct json_scan *s)
{
    char *p = s->p;

    for (;;) {
        if (*p == ' ' || *p == '\t' || *p == '\r') {
            p++;
        } else if (*p == '\n') {
            p++;
            s->line++;
            s->line_start = p;
        } else {
            break;
        }
    }
    s->p = p;
    json_scan_settle(s);
}

enum json_kind json_scan_peek(struct json_scan *s)
{
    if (s->failed)
        return JSON_KIND_BAD;
    skip_blanks(s);
    if (s->p >= s->end)
        return JSON_KIND_BAD;
    switch (*s->p) {
    case '{':
        return JSON_KIND_OBJECT;
    case '[':
        return JSON_KIND_ARRAY;
    case '"':
        return JSON_KIND_STRING;
    case 't':
        return JSON_KIND_TRUE;
    case 'f':
        return JSON_KIND_FALSE;
    case 'n':
        return JSON_KIND_NULL;
    case '-':
        return JSON_KIND_NUMBER;
    default:
        return (*s->p >= '0' && *s->p <= '9') ? JSON_KIND_NUMBER
                                              : JSON_KIND_BAD;
    }
}

/* Reads the opening byte of an object or array. */
static enum ep_status open_container(struct json_scan *s, enum json_kind kind,
                                     const char *expected)
{
    if (json_scan_peek(s) != kind)
        return json_scan_fail(s, expected);
    if (++s->depth > SCAN_DEPTH_MAX)
        return json_scan_fail(s, "nesting too deep");
    s->p++;
    return EP_OK;
}

enum ep_status json_scan_object(struct json_scan *s)
{
    return open_container(s, JSON_KIND_OBJECT, "expected '{'");
}

enum ep_status json_scan_array(struct json_scan *s)
{
    return open_container(s, JSON_KIND_ARRAY, "expected '['");
}

/* Common step of members and elements: the closer, or a ',' between. */
static enum ep_status next_item(struct json_scan *s, char closer, bool *first,
                                bool *more)
{
    if (s->failed)
        return EP_ERR_INVALID;
    skip_blanks(s);
    if (*s->p == closer && s->p < s->end) {
        s->p++;
        s->depth--;
        json_scan_settle(s);
        *more = false;
        return EP_OK;
    }
    if (!*first) {
        if (*s->p != ',' || s->p >= s->end)
            return json_scan_fail(s, closer == '}' ? "expected ',' or '}'"
                                                   : "expected ',' or ']'");
        s->p++;
        json_scan_settle(s);
    }
    *first = false;
    *more = true;
    return EP_OK;
}

enum ep_status json_scan_member(struct json_scan *s, bool *first, bool *more,
                                char **key)
{
    if (next_item(s, '}', first, more) != EP_OK || !*more)
        return s->failed ? EP_ERR_INVALID : EP_OK;
    if (json_scan_peek(s) != JSON_KIND_STRING)
        return json_scan_fail(s, "expected a member name");
    if (json_scan_string(s, key, NULL) != EP_OK)
        return EP_ERR_INVALID;
    skip_blanks(s);
    if (*s->p != ':' || s->p >= s->end)
        return json_scan_fail(s, "expected ':'");
    s->p++;
    return EP_OK;
}

enum ep_status json_scan_element(struct json_scan *s, bool *first, bool *more)
{
    return next_item(s, ']', first, more);
}

/* Length of a valid UTF-8 sequence of 2 to 4 bytes at p, or 0. */
static size_t utf8_sequence(const unsigned char *p)
{
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;

    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        lo = p[0] == 0xE0 ? 0xA0 : 0x80;
        hi = p[0] == 0xED ? 0x9F : 0xBF;
        return (p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80) ? 3 : 0;
    }
    if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        lo = p[0] == 0xF0 ? 0x90 : 0x80;
        hi = p[0] == 0xF4 ? 0x8F : 0xBF;
        return (p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
                (p[3] & 0xC0) == 0x80)
                   ? 4
                   : 0;
    }
    return 0;
}

/* Reads 4 hex digits; -1 if they are not. */
static long hex4(const char *p)
{
    long value = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

/* Writes code point cp as UTF-8 at *w. */
static void put_utf8(char **w, long cp)
{
    char *o = *w;

    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    *w = o;
}

/*
 * Reads a \u escape at r (r[0] == '\\', r[1] == 'u'), a surrogate pair
 * included; *cp gets the code point. Returns the bytes read, 0 if invalid.
 */
static size_t unicode_escape(const char *r, long *cp)
{
    long high = hex4(r + 2);
    long low;

    if (high < 0 || high == 0 || (high >= 0xDC00 && high <= 0xDFFF))
        return 0;
    if (high < 0xD800 || high > 0xDBFF) {
        *cp = high;
        return 6;
    }
    if (r[6] != '\\' || r[7] != 'u')
        return 0;
    low = hex4(r + 8);
    if (low < 0xDC00 || low > 0xDFFF)
        return 0;
    *cp = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
    return 12;
}

/*
 * Checks the escape at r (r[0] is the backslash): returns its length in
 * bytes (2, 6 or 12), 0 if invalid. *cp gets the code point of a \u
 * escape, or -1 for the one-letter escapes.
 */
static size_t escape_at(const char *r, long *cp)
{
    *cp = -1;
    if (r[1] == 'u')
        return unicode_escape(r, cp);
    if (r[1] == '\0' || strchr("\"\\/bfnrt", r[1]) == NULL)
        return 0;
    return 2;
}

/* The byte a one-letter escape stands for. */
static char unescape_letter(char letter)
{
    switch (letter) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return letter; /* '"', '\\' and '/' stand for themselves */
    }
}

/* Copies (raw) or decodes the escape at r to *o; bytes read, 0 if bad. */
static size_t take_escape(const char *r, bool decode, char **o)
{
    long cp;
    size_t n = escape_at(r, &cp);

    if (n == 0)
        return 0;
    if (!decode) {
        memmove(*o, r, n);
        *o += n;
    } else if (cp >= 0) {
        put_utf8(o, cp);
    } else {
        *(*o)++ = unescape_letter(r[1]);
    }
    return n;
}

/*
 * Reads the string at s->p (its opening quote). decode: unescape into
 * place; otherwise copy it verbatim to *w (raw mode). On return s->p is
 * past the closing quote and *w past the last byte written.
 */
static enum ep_status read_string(struct json_scan *s, bool decode, char **w)
{
    char *r = s->p + 1;
    char *o = *w;
    size_t n;

    if (!decode)
        *o++ = '"';
    for (;;) {
        unsigned char c = (unsigned char)*r;
        if (c == '"')
            break;
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            *o++ = *r++;
            continue;
        }
        s->p = r;
        if (c == '\\') {
            n = take_escape(r, decode, &o);
            if (n == 0)
                return json_scan_fail(s, "invalid escape in a string");
            r += n;
            continue;
        }
        if (c < 0x20)
            return json_scan_fail(s, r >= s->end ? "unterminated string"
                                                 : "control character in "
                                                   "a string");
        n = utf8_sequence((const unsigned char *)r);
        if (n == 0)
            return json_scan_fail(s, "invalid UTF-8 in a string");
        memmove(o, r, n);
        o += n;
        r += n;
    }
    if (!decode)
        *o++ = '"';
    s->p = r + 1;
    *w = o;
    return EP_OK;
}

enum ep_status json_scan_string(struct json_scan *s, char **out,
                                size_t *length_out)
{
    char *start;
    char *w;

    if (json_scan_peek(s) != JSON_KIND_STRING)
        return json_scan_fail(s, "expected a string");
    start = s->p + 1;
    w = start;
    if (read_string(s, true, &w) != EP_OK)
        return EP_ERR_INVALID;
    *w = '\0';
    *out = start;
    if (length_out != NULL)
        *length_out = (size_t)(w - start);
    return EP_OK;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The end of the number at p, or NULL if the grammar breaks. */
static char *number_end(char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (is_digit(*p))
            p++;
    } else {
        return NULL;
    }
    if (*p == '.') {
        if (!is_digit(*++p))
            return NULL;
        while (is_digit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return NULL;
        while (is_digit(*p))
            p++;
    }
    return p;
}

enum ep_status json_scan_number(struct json_scan *s, char **start,
                                size_t *length)
{
    char *e;

    if (json_scan_peek(s) != JSON_KIND_NUMBER)
        return json_scan_fail(s, "expected a number");
    e = number_end(s->p);
    if (e == NULL)
        return json_scan_fail(s, "invalid number");
    *start = s->p;
    *length = (size_t)(e - s->p);
    s->p = e;
    return EP_OK;
}

enum ep_status json_scan_literal(struct json_scan *s, enum json_kind kind)
{
    const char *word = kind == JSON_KIND_TRUE    ? "true"
                       : kind == JSON_KIND_FALSE ? "false"
                                                 : "null";
    size_t n = strlen(word);

    if (json_scan_peek(s) != kind || strncmp(s->p, word, n) != 0)
        return json_scan_fail(s, "invalid literal");
    s->p += n;
    return EP_OK;
}

static enum ep_status raw_value(struct json_scan *s, char **w);

/* Copies the members of an object (after its '{') compactly to *w. */
static enum ep_status raw_members(struct json_scan *s, char **w)
{
    bool first = true;
    bool more = true;

    *(*w)++ = '{';
    for (;;) {
        if (next_item(s, '}', &first, &more) != EP_OK)
            return EP_ERR_INVALID;
        if (!more)
            break;
        if ((*w)[-1] != '{')
            *(*w)++ = ',';
        if (json_scan_peek(s) != JSON_KIND_STRING)
            return json_scan_fail(s, "expected a member name");
        if (read_string(s, false, w) != EP_OK)
            return EP_ERR_INVALID;
        skip_blanks(s);
        if (*s->p != ':' || s->p >= s->end)
            return json_scan_fail(s, "expected ':'");
        s->p++;
        *(*w)++ = ':';
        if (raw_value(s, w) != EP_OK)
            return EP_ERR_INVALID;
    }
    *(*w)++ = '}';
    return EP_OK;
}

/* Copies the elements of an array (after its '[') compactly to *w. */
static enum ep_status raw_elements(struct json_scan *s, char **w)
{
    bool first = true;
    bool more = true;

    *(*w)++ = '[';
    for (;;) {
        if (next_item(s, ']', &first, &more) != EP_OK)
            return EP_ERR_INVALID;
        if (!more)
            break;
        if ((*w)[-1] != '[')
            *(*w)++ = ',';
        if (raw_value(s, w) != EP_OK)
            return EP_ERR_INVALID;
    }
    *(*w)++ = ']';
    return EP_OK;
}

/* Copies one value compactly to *w (w never passes s->p). */
static enum ep_status raw_value(struct json_scan *s, char **w)
{
    enum json_kind kind = json_scan_peek(s);
    char *start = s->p;
    size_t length = 0;

    switch (kind) {
    case JSON_KIND_OBJECT:
    case JSON_KIND_ARRAY:
        if (open_container(s, kind, "expected a value") != EP_OK)
            return EP_ERR_INVALID;
        return kind == JSON_KIND_OBJECT ? raw_members(s, w)
                                        : raw_elements(s, w);
    case JSON_KIND_STRING:
        return read_string(s, false, w);
    case JSON_KIND_NUMBER:
        if (json_scan_number(s, &start, &length) != EP_OK)
            return EP_ERR_INVALID;
        break;
    case JSON_KIND_TRUE:
    case JSON_KIND_FALSE:
    case JSON_KIND_NULL:
        if (json_scan_literal(s, kind) != EP_OK)
            return EP_ERR_INVALID;
        length = (size_t)(s->p - start);
        break;
    default:
        return json_scan_fail(s, "expected a value");
    }
    memmove(*w, start, length);
    *w += length;
    return EP_OK;
}

enum ep_status json_scan_raw(struct json_scan *s, char **out)
{
    char *start;
    char *w;

    if (json_scan_peek(s) == JSON_KIND_BAD)
        return json_scan_fail(s, "expected a value");
    start = s->p;
    w = start;
    if (raw_value(s, &w) != EP_OK)
        return EP_ERR_INVALID;
    if (w < s->p)
        *w = '\0';
    else
        s->pending_nul = w;
    *out = start;
    return EP_OK;
}

enum ep_status json_scan_skip(struct json_scan *s)
{
    char *w;

    if (json_scan_peek(s) == JSON_KIND_BAD)
        return json_scan_fail(s, "expected a value");
    w = s->p;
    return raw_value(s, &w);
}

enum ep_status json_scan_finish(struct json_scan *s)
{
    if (s->failed)
        return EP_ERR_INVALID;
    skip_blanks(s);
    if (s->p < s->end)
        return json_scan_fail(s, "unexpected text after the document");
    json_scan_settle(s);
    return EP_OK;
}
