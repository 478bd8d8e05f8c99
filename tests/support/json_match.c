/* json_match.c - the subset comparison of support.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "support.h"

/* Compares expected (a subset) with actual; prints the first difference. */
bool test_json_subset(const json_t *want, const json_t *got, const char *path)
{
    char sub[512];

    if (json_is_number(want) && json_is_number(got)) {
        if (llround(json_number_value(want) * 100) ==
            llround(json_number_value(got) * 100))
            return true;
        fprintf(stderr, "  %s: expected %g, got %g\n", path,
                json_number_value(want), json_number_value(got));
        return false;
    }
    if (json_is_object(want) && json_is_object(got)) {
        const char *key;
        const json_t *value;
        json_object_foreach((json_t *)want, key, value)
        {
            snprintf(sub, sizeof(sub), "%s.%s", path, key);
            if (json_object_get(got, key) == NULL) {
                fprintf(stderr, "  %s: missing\n", sub);
                return false;
            }
            if (!test_json_subset(value, json_object_get(got, key), sub))
                return false;
        }
        return true;
    }
    if (json_is_array(want) && json_is_array(got)) {
        if (json_array_size(want) != json_array_size(got)) {
            fprintf(stderr, "  %s: expected %zu elements, got %zu\n", path,
                    json_array_size(want), json_array_size(got));
            return false;
        }
        for (size_t i = 0; i < json_array_size(want); i++) {
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (!test_json_subset(json_array_get(want, i),
                                  json_array_get(got, i), sub))
                return false;
        }
        return true;
    }
    if (json_equal((json_t *)want, (json_t *)got))
        return true;
    {
        char *w = json_dumps(want, JSON_ENCODE_ANY);
        char *g = json_dumps(got, JSON_ENCODE_ANY);
        fprintf(stderr, "  %s: expected %s, got %s\n", path, w, g);
        free(w);
        free(g);
    }
    return false;
}
