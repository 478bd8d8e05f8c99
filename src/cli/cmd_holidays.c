/*
 * cmd_holidays.c - `edgepromo holidays import FILE`: replaces the imported
 * holiday calendar (source "import") with the days in FILE, in one
 * transaction; days the CMS sent stay, unless FILE names the same date.
 *
 * FILE is JSON, [{"date": "2026-12-25", "name": "Hari Raya Natal"}, ...],
 * or CSV lines "date,name" (a first line "date,name" is a header; blank
 * lines and lines starting with # are skipped). A bad date is bad input
 * (exit 2) naming the line or entry; nothing is imported then.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/localtime.h"
#include "common/mem.h"
#include "store/store.h"

#define HOLIDAYS_MAX      100000
#define HOLIDAYS_FILE_MAX ((long)16 << 20)

/* The days read, in an arena. */
struct holidays {
    struct holiday_record *days; /* arena */
    size_t count;                /* entries used */
    struct ep_arena arena;       /* owns days and their text */
};

static enum ep_status add_day(struct holidays *h, const char *date,
                              const char *name, const char *where,
                              struct ep_error *err)
{
    int32_t day = 0;

    if (date == NULL || ep_date_parse(date, &day) != EP_OK)
        return ep_error_set(err, EP_ERR_INVALID, "date",
                            "%s: date: expected YYYY-MM-DD", where);
    if (h->count >= HOLIDAYS_MAX)
        return ep_error_set(err, EP_ERR_TOO_LARGE, NULL,
                            "more than %d holidays", HOLIDAYS_MAX);
    h->days[h->count].date = ep_arena_strdup(&h->arena, date);
    h->days[h->count].name = name != NULL && name[0] != '\0'
                                 ? ep_arena_strdup(&h->arena, name)
                                 : NULL;
    if (h->days[h->count].date == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    h->count++;
    return EP_OK;
}

static enum ep_status read_json(struct holidays *h, const char *text,
                                struct ep_error *err)
{
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    enum ep_status status = EP_OK;
    char where[48];

    if (!json_is_array(root)) {
        json_decref(root);
        return ep_error_set(err, EP_ERR_INVALID, NULL,
                            "expected a JSON array of {date, name} (%s, "
                            "line %d)",
                            root == NULL ? jerr.text : "not an array",
                            root == NULL ? jerr.line : 1);
    }
    for (size_t i = 0; status == EP_OK && i < json_array_size(root); i++) {
        const json_t *day = json_array_get(root, i);
        snprintf(where, sizeof(where), "[%zu]", i);
        status = add_day(h, json_string_value(json_object_get(day, "date")),
                         json_string_value(json_object_get(day, "name")), where,
                         err);
    }
    json_decref(root);
    return status;
}

/* Trims blanks and a trailing CR in place. */
static char *trim(char *s)
{
    size_t n;

    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static enum ep_status read_csv(struct holidays *h, char *text,
                               struct ep_error *err)
{
    enum ep_status status = EP_OK;
    char where[48];
    long line = 0;
    char *next = text;

    while (status == EP_OK && next != NULL && *next != '\0') {
        char *row = next;
        char *comma;
        next = strchr(row, '\n');
        if (next != NULL)
            *next++ = '\0';
        line++;
        row = trim(row);
        if (row[0] == '\0' || row[0] == '#' ||
            (line == 1 && strncmp(row, "date,", 5) == 0))
            continue;
        comma = strchr(row, ',');
        if (comma != NULL)
            *comma = '\0';
        snprintf(where, sizeof(where), "line %ld", line);
        status =
            add_day(h, trim(row), comma ? trim(comma + 1) : NULL, where, err);
    }
    return status;
}

static char *read_whole(const char *path, struct ep_error *err)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size = -1;

    if (f != NULL && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (f != NULL && size >= 0 && size <= HOLIDAYS_FILE_MAX &&
        fseek(f, 0, SEEK_SET) == 0 &&
        (text = ep_malloc((size_t)size + 1)) != NULL &&
        fread(text, 1, (size_t)size, f) == (size_t)size) {
        text[size] = '\0';
    } else {
        ep_free(text);
        text = NULL;
        ep_error_set(err, EP_ERR_INVALID, "file", "cannot read %s", path);
    }
    if (f != NULL)
        fclose(f);
    return text;
}

static enum ep_status import_days(struct cli_context *ctx, struct holidays *h,
                                  const char *path)
{
    struct store *store = NULL;
    char *text = read_whole(path, &ctx->err);
    char *start;
    enum ep_status status;
    struct ep_buf out;

    if (text == NULL)
        return EP_ERR_INVALID;
    start = trim(text);
    status = start[0] == '[' ? read_json(h, start, &ctx->err)
                             : read_csv(h, start, &ctx->err);
    if (status == EP_OK)
        status = cli_store_open(ctx, &store);
    if (status == EP_OK)
        status = store_holidays_replace(store, "import", h->days, h->count,
                                        &ctx->err);
    ep_buf_init(&out, 4096);
    ep_buf_printf(&out, "{\"imported\": %zu, \"source\": \"import\"}\n",
                  h->count);
    if (status == EP_OK)
        status = cli_print(&out, &ctx->err);
    ep_buf_deinit(&out);
    store_close(store);
    ep_free(text);
    return status;
}

enum ep_status cli_cmd_holidays(struct cli_context *ctx)
{
    struct holidays h;
    enum ep_status status;

    if (ctx->argc != 3 || strcmp(ctx->argv[1], "import") != 0)
        return cli_usage_error(ctx, "expected: import FILE");
    memset(&h, 0, sizeof(h));
    ep_arena_init(&h.arena, 64 * 1024, (size_t)64 << 20);
    h.days = ep_arena_calloc(&h.arena, HOLIDAYS_MAX, sizeof(*h.days));
    status = h.days != NULL
                 ? import_days(ctx, &h, ctx->argv[2])
                 : ep_error_set(&ctx->err, EP_ERR_NOMEM, NULL, "out of memory");
    ep_arena_deinit(&h.arena);
    return status;
}
