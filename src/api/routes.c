/*
 * routes.c - the route table (internal.h's API_ROUTE_TABLE turned into
 * rows), path matching, the Allow header of a 405 and the description the
 * docs are checked against.
 *
 * Matching walks the rows in order and compares a path segment by segment
 * with each pattern: a literal segment must be equal, a "{name}" segment
 * takes any non-empty segment. "/v1/promotions/active" therefore reaches
 * its own row before "/v1/promotions/{code}" (a promotion coded "active"
 * is read with ?code= on the list instead; docs/api.md says so). When the
 * path matches rows of other methods only, the answer is 405 with the
 * methods of those rows in Allow.
 */
#include <assert.h>
#include <string.h>

#include "api/internal.h"

static const struct api_route routes[] = {
#define API_ROUTE_ROW(id, method, pattern, handler, body, auth, summary) \
    { id, method, pattern, handler, body, auth, summary },
    API_ROUTE_TABLE(API_ROUTE_ROW)
#undef API_ROUTE_ROW
};

#define ROUTE_ROWS (sizeof(routes) / sizeof(routes[0]))

/* Length of the segment starting at s (up to '/' or the end). */
static size_t segment_length(const char *s)
{
    const char *slash = strchr(s, '/');

    return slash != NULL ? (size_t)(slash - s) : strlen(s);
}

/*
 * Compares path with pattern; on a match fills the parameters' starts and
 * lengths. Both start with '/'.
 */
static bool pattern_matches(const char *pattern, char *path, char **starts,
                            size_t *lengths, size_t *count)
{
    *count = 0;
    while (*pattern == '/' && *path == '/') {
        size_t want = segment_length(++pattern);
        size_t have = segment_length(++path);
        if (pattern[0] == '{') {
            if (have == 0 || *count == API_PATH_PARAMS_MAX)
                return false;
            starts[*count] = path;
            lengths[(*count)++] = have;
        } else if (want != have || memcmp(pattern, path, have) != 0) {
            return false;
        }
        pattern += want;
        path += have;
    }
    return *pattern == '\0' && *path == '\0';
}

/* Adds method to the Allow list unless it is there already. */
static void allow_add(char *allow, size_t size, const char *method)
{
    size_t len = strlen(allow);

    if (strstr(allow, method) != NULL)
        return;
    if (len + strlen(method) + 3 > size)
        return;
    if (len > 0) {
        memcpy(allow + len, ", ", 2);
        len += 2;
    }
    memcpy(allow + len, method, strlen(method) + 1);
}

void api_route_match(const char *method, char *path, struct api_match *out)
{
    char *starts[API_PATH_PARAMS_MAX];
    size_t lengths[API_PATH_PARAMS_MAX];
    size_t count;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < ROUTE_ROWS; i++) {
        if (!pattern_matches(routes[i].pattern, path, starts, lengths, &count))
            continue;
        if (strcmp(routes[i].method, method) != 0) {
            out->path_known = true;
            allow_add(out->allow, sizeof(out->allow), routes[i].method);
            continue;
        }
        out->route = &routes[i];
        out->param_count = count;
        for (size_t k = 0; k < count; k++) {
            starts[k][lengths[k]] = '\0';
            out->params[k] = starts[k];
        }
        return;
    }
}

const char *api_route_label(enum api_route_id id)
{
    assert(id < API_ROUTE_COUNT);
    return id == API_ROUTE_UNMATCHED ? "unmatched" : routes[id].pattern;
}

const char *api_route_method(enum api_route_id id)
{
    assert(id < API_ROUTE_COUNT);
    return id == API_ROUTE_UNMATCHED ? "-" : routes[id].method;
}

static const char *const body_names[] = {
    [API_BODY_NONE] = "none",
    [API_BODY_SMALL] = "4 KiB",
    [API_BODY_CART] = "max_body_bytes",
};

void api_routes_describe(struct ep_buf *out)
{
    for (size_t i = 0; i < ROUTE_ROWS; i++)
        ep_buf_printf(out, "| `%s` | `%s` | %s | %s | %s |\n", routes[i].method,
                      routes[i].pattern, routes[i].auth ? "token" : "open",
                      body_names[routes[i].body], routes[i].summary);
}
