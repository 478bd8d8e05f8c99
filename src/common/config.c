/*
 * config.c - the table of config keys and the loaders that read it.
 *
 * Each key has one row: its name, where its value lives in struct
 * ep_config, its type, default, validator, whether it is secret, and help.
 */
#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"

#define CONFIG_LINE_MAX  4096
#define CONFIG_VALUE_MAX 2048

enum config_type { CONFIG_STRING, CONFIG_NUMBER };

typedef enum ep_status (*config_validator)(const char *key, const char *value,
                                           long number, struct ep_error *err);

struct config_key {
    const char *name;          /* key in files; EDGEPROMO_<NAME> in env */
    size_t offset;             /* of the char * or long in ep_config */
    enum config_type type;     /* how the value is stored */
    const char *default_value; /* text form; NULL for none */
    config_validator validate; /* NULL: anything non-empty */
    long min;                  /* CONFIG_NUMBER: smallest allowed */
    long max;                  /* CONFIG_NUMBER: largest allowed */
    bool secret;               /* masked by `edgepromo config` */
    const char *help;          /* one line for people */
};

static enum ep_status validate_db(const char *key, const char *value,
                                  long number, struct ep_error *err);
static enum ep_status validate_id(const char *key, const char *value,
                                  long number, struct ep_error *err);
static enum ep_status validate_zone(const char *key, const char *value,
                                    long number, struct ep_error *err);
static enum ep_status validate_url(const char *key, const char *value,
                                   long number, struct ep_error *err);
static enum ep_status validate_listen(const char *key, const char *value,
                                      long number, struct ep_error *err);
static enum ep_status validate_tokens(const char *key, const char *value,
                                      long number, struct ep_error *err);
static enum ep_status validate_level(const char *key, const char *value,
                                     long number, struct ep_error *err);
static enum ep_status validate_sync_mode(const char *key, const char *value,
                                         long number, struct ep_error *err);

#define STR_KEY(field) offsetof(struct ep_config, field), CONFIG_STRING
#define NUM_KEY(field) offsetof(struct ep_config, field), CONFIG_NUMBER

static const struct config_key config_keys[] = {
    { "db", STR_KEY(db), "./var/edge.db", validate_db, 0, 0, false,
      "SQLite path, sqlite:PATH, or postgresql://..." },
    { "company_id", STR_KEY(company_id), NULL, validate_id, 0, 0, false,
      "company this edge serves (required for sync and serve)" },
    { "store_id", STR_KEY(store_id), NULL, validate_id, 0, 0, false,
      "store this edge serves (required for sync and serve)" },
    { "timezone", STR_KEY(timezone), NULL, validate_zone, 0, 0, false,
      "IANA time zone of the store, e.g. Asia/Jakarta (default: system)" },
    { "cms_url", STR_KEY(cms_url), NULL, validate_url, 0, 0, false,
      "base URL of the CMS, http:// or https:// (none: no network sync)" },
    { "cms_token", STR_KEY(cms_token), NULL, NULL, 0, 0, true,
      "bearer token sent to the CMS" },
    { "cms_ca_file", STR_KEY(cms_ca_file), NULL, NULL, 0, 0, false,
      "CA bundle file for the CMS's HTTPS (default: libcurl's)" },
    { "listen", STR_KEY(listen), "127.0.0.1:8080", validate_listen, 0, 0, false,
      "address:port of the POS API" },
    { "api_tokens", STR_KEY(api_tokens), NULL, validate_tokens, 0, 0, true,
      "comma-separated terminal tokens (none: every request is 401)" },
    { "log_level", STR_KEY(log_level), "info", validate_level, 0, 0, false,
      "debug, info, warn, error or off" },
    { "usage_synchronous", STR_KEY(usage_synchronous), "FULL",
      validate_sync_mode, 0, 0, false,
      "FULL or NORMAL: SQLite durability of checkout commits" },
    { "sync_interval", NUM_KEY(sync_interval), "300", NULL, 1, 86400 * 7, false,
      "seconds between incremental syncs in serve" },
    { "full_sync_interval", NUM_KEY(full_sync_interval), "86400", NULL, 1,
      86400 * 30, false, "seconds between full syncs in serve" },
    { "request_timeout", NUM_KEY(request_timeout), "30", NULL, 1, 3600, false,
      "seconds for one CMS call" },
    { "connect_timeout", NUM_KEY(connect_timeout), "10", NULL, 1, 600, false,
      "seconds to connect to the CMS" },
    { "threads", NUM_KEY(threads), "4", NULL, 1, 256, false,
      "HTTP worker threads in serve" },
    { "max_body_bytes", NUM_KEY(max_body_bytes), "1048576", NULL, 1024,
      64L * 1024 * 1024, false, "largest request body the POS API accepts" },
    { "idle_timeout", NUM_KEY(idle_timeout), "30", NULL, 1, 3600, false,
      "seconds before the POS API closes an idle connection" },
    { "max_connections", NUM_KEY(max_connections), "1024", NULL, 1, 65536,
      false, "open POS API connections at most" },
};

#define CONFIG_KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

static const struct config_key *config_key_find(const char *name)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        if (strcmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    }
    return NULL;
}

static char **string_slot(struct ep_config *cfg, const struct config_key *key)
{
    return (char **)(void *)((char *)cfg + key->offset);
}

static long *number_slot(struct ep_config *cfg, const struct config_key *key)
{
    return (long *)(void *)((char *)cfg + key->offset);
}

/* Parses a whole decimal number within the key's bounds. */
static enum ep_status parse_number(const struct config_key *key,
                                   const char *value, long *out,
                                   struct ep_error *err)
{
    char *end = NULL;
    long number;

    errno = 0;
    number = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || number < key->min ||
        number > key->max)
        return ep_error_set(err, EP_ERR_CONFIG, key->name,
                            "%s: '%s' is not valid (expected a whole number "
                            "from %ld to %ld)",
                            key->name, value, key->min, key->max);
    *out = number;
    return EP_OK;
}

static void free_tokens(struct ep_config *cfg)
{
    for (size_t i = 0; i < cfg->token_count; i++)
        ep_free(cfg->tokens[i]);
    cfg->token_count = 0;
}

/* Splits api_tokens on commas into cfg->tokens, trimming blanks. */
static enum ep_status split_tokens(struct ep_config *cfg)
{
    const char *p = cfg->api_tokens;

    free_tokens(cfg);
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *start = p;
        while (start < end && isspace((unsigned char)*start))
            start++;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        if (end > start && cfg->token_count < EP_CONFIG_MAX_TOKENS) {
            cfg->tokens[cfg->token_count] =
                ep_strndup(start, (size_t)(end - start));
            if (cfg->tokens[cfg->token_count] == NULL)
                return EP_ERR_NOMEM;
            cfg->token_count++;
        }
        p = comma ? comma + 1 : NULL;
    }
    return EP_OK;
}

/* Stores a validated value into its slot. */
static enum ep_status store_value(struct ep_config *cfg,
                                  const struct config_key *key,
                                  const char *value, long number)
{
    char **slot;
    char *copy;

    if (key->type == CONFIG_NUMBER) {
        *number_slot(cfg, key) = number;
        return EP_OK;
    }
    slot = string_slot(cfg, key);
    copy = value[0] == '\0' ? NULL : ep_strdup(value);
    if (value[0] != '\0' && copy == NULL)
        return EP_ERR_NOMEM;
    ep_free(*slot);
    *slot = copy;
    if (strcmp(key->name, "api_tokens") == 0)
        return split_tokens(cfg);
    return EP_OK;
}

/* Validates and sets one key; an empty string unsets a string key. */
static enum ep_status config_key_set(struct ep_config *cfg,
                                     const struct config_key *key,
                                     const char *value, struct ep_error *err)
{
    long number = 0;
    enum ep_status status;

    if (strlen(value) > CONFIG_VALUE_MAX)
        return ep_error_set(err, EP_ERR_CONFIG, key->name,
                            "%s: value is longer than %d characters", key->name,
                            CONFIG_VALUE_MAX);
    if (key->type == CONFIG_NUMBER) {
        status = parse_number(key, value, &number, err);
        if (status != EP_OK)
            return status;
    }
    if (key->validate != NULL && value[0] != '\0') {
        status = key->validate(key->name, value, number, err);
        if (status != EP_OK)
            return status;
    }
    status = store_value(cfg, key, value, number);
    if (status != EP_OK)
        return ep_error_set(err, status, key->name, "%s: out of memory",
                            key->name);
    return EP_OK;
}

enum ep_status ep_config_init(struct ep_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->sources = ep_calloc(CONFIG_KEY_COUNT, sizeof(*cfg->sources));
    if (cfg->sources == NULL)
        return EP_ERR_NOMEM;
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const struct config_key *key = &config_keys[i];
        enum ep_status status;
        if (key->default_value == NULL)
            continue;
        status = config_key_set(cfg, key, key->default_value, NULL);
        if (status != EP_OK) {
            ep_config_deinit(cfg);
            return status;
        }
    }
    return EP_OK;
}

void ep_config_deinit(struct ep_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        if (config_keys[i].type == CONFIG_STRING) {
            char **slot = string_slot(cfg, &config_keys[i]);
            ep_free(*slot);
            *slot = NULL;
        }
    }
    free_tokens(cfg);
    ep_free(cfg->sources);
    cfg->sources = NULL;
}

enum ep_status ep_config_set(struct ep_config *cfg, const char *name,
                             const char *value, enum ep_config_source source,
                             struct ep_error *err)
{
    const struct config_key *key = config_key_find(name);
    enum ep_status status;

    if (key == NULL)
        return ep_error_set(err, EP_ERR_CONFIG, name, "%s: unknown config key",
                            name);
    status = config_key_set(cfg, key, value, err);
    if (status == EP_OK)
        cfg->sources[key - config_keys] = source;
    return status;
}

/* Trims blanks at both ends in place; returns the new start. */
static char *trim(char *text)
{
    char *end;

    while (isspace((unsigned char)*text))
        text++;
    end = text + strlen(text);
    while (end > text && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return text;
}

/* Handles one line of a config file. */
static enum ep_status config_file_line(struct ep_config *cfg, char *line,
                                       const char *path, int number,
                                       struct ep_error *err)
{
    char *text = trim(line);
    char *equals;
    enum ep_status status;

    if (text[0] == '\0' || text[0] == '#')
        return EP_OK;
    equals = strchr(text, '=');
    if (equals == NULL)
        return ep_error_set(err, EP_ERR_CONFIG, NULL,
                            "%s:%d: expected 'key = value'", path, number);
    *equals = '\0';
    status = ep_config_set(cfg, trim(text), trim(equals + 1),
                           EP_CONFIG_FROM_FILE, err);
    if (status != EP_OK && err != NULL) {
        char located[EP_ERROR_MESSAGE_MAX];
        snprintf(located, sizeof(located), "%s:%d: %s", path, number,
                 err->message);
        memcpy(err->message, located, sizeof(err->message));
    }
    return status;
}

enum ep_status ep_config_load_file(struct ep_config *cfg, const char *path,
                                   struct ep_error *err)
{
    char line[CONFIG_LINE_MAX];
    enum ep_status status = EP_OK;
    int number = 0;
    FILE *file = fopen(path, "r");

    if (file == NULL)
        return ep_error_set(err, EP_ERR_CONFIG, "config", "config file %s: %s",
                            path, strerror(errno));
    while (status == EP_OK && fgets(line, sizeof(line), file) != NULL) {
        number++;
        if (strchr(line, '\n') == NULL && !feof(file))
            status = ep_error_set(err, EP_ERR_CONFIG, NULL,
                                  "%s:%d: line longer than %d characters", path,
                                  number, CONFIG_LINE_MAX - 2);
        else
            status = config_file_line(cfg, line, path, number, err);
    }
    if (status == EP_OK && ferror(file))
        status = ep_error_set(err, EP_ERR_IO, "config", "config file %s: %s",
                              path, strerror(errno));
    fclose(file);
    return status;
}

enum ep_status ep_config_load_env(struct ep_config *cfg, struct ep_error *err)
{
    char name[96];

    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const struct config_key *key = &config_keys[i];
        const char *value;
        enum ep_status status;
        size_t n =
            (size_t)snprintf(name, sizeof(name), "EDGEPROMO_%s", key->name);
        for (size_t k = 10; k < n; k++)
            name[k] = (char)toupper((unsigned char)name[k]);
        value = getenv(name);
        if (value == NULL)
            continue;
        status = config_key_set(cfg, key, value, err);
        if (status != EP_OK) {
            char located[EP_ERROR_MESSAGE_MAX];
            snprintf(located, sizeof(located), "%s (from %s)",
                     err ? err->message : "", name);
            if (err != NULL)
                memcpy(err->message, located, sizeof(err->message));
            return status;
        }
        cfg->sources[i] = EP_CONFIG_FROM_ENV;
    }
    return EP_OK;
}

enum ep_status ep_config_require(const struct ep_config *cfg, const char *name,
                                 struct ep_error *err)
{
    const struct config_key *key = config_key_find(name);

    if (key == NULL || key->type != CONFIG_STRING)
        return ep_error_set(err, EP_ERR_INTERNAL, name, "%s: not a string key",
                            name);
    if (*string_slot((struct ep_config *)cfg, key) != NULL)
        return EP_OK;
    return ep_error_set(err, EP_ERR_CONFIG, name,
                        "%s: missing (set '%s = ...' in the config file or "
                        "EDGEPROMO_%s): %s",
                        name, name, name, key->help);
}

static const char *const source_names[] = { "default", "file", "env", "flag" };

void ep_config_to_json(const struct ep_config *cfg, struct ep_buf *out)
{
    ep_buf_putc(out, '{');
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const struct config_key *key = &config_keys[i];
        ep_buf_puts(out, i == 0 ? "\n  " : ",\n  ");
        ep_buf_json_string(out, key->name);
        ep_buf_puts(out, ": {\"value\": ");
        if (key->type == CONFIG_NUMBER) {
            ep_buf_json_int(out, *number_slot((struct ep_config *)cfg, key));
        } else {
            const char *v = *string_slot((struct ep_config *)cfg, key);
            ep_buf_json_string(out,
                               (v != NULL && key->secret) ? "********" : v);
        }
        ep_buf_puts(out, ", \"source\": ");
        ep_buf_json_string(out, source_names[cfg->sources[i]]);
        ep_buf_putc(out, '}');
    }
    ep_buf_puts(out, "\n}\n");
}

bool ep_config_token_is_valid(const struct ep_config *cfg, const char *token,
                              size_t token_len)
{
    bool found = false;

    for (size_t i = 0; i < cfg->token_count; i++) {
        const char *known = cfg->tokens[i];
        size_t known_len = strlen(known);
        unsigned char diff = (unsigned char)(known_len != token_len);
        for (size_t k = 0; k < token_len; k++)
            diff |= (unsigned char)(token[k] ^ known[k % (known_len + 1)]);
        found |= diff == 0;
    }
    return found;
}

void ep_config_describe(struct ep_buf *out)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const struct config_key *key = &config_keys[i];
        ep_buf_printf(out, "  %-20s %s (default: %s)\n", key->name, key->help,
                      key->default_value ? key->default_value : "none");
    }
}

/* ---- validators: each names the key and the expected form ---------- */

static enum ep_status validate_db(const char *key, const char *value,
                                  long number, struct ep_error *err)
{
    (void)number;
    if (strncmp(value, "postgresql://", 13) == 0 ||
        strncmp(value, "postgres://", 11) == 0)
        return EP_OK;
    if (strncmp(value, "sqlite:", 7) == 0 && value[7] != '\0')
        return EP_OK;
    if (strstr(value, "://") == NULL)
        return EP_OK;
    return ep_error_set(err, EP_ERR_CONFIG, key,
                        "%s: '%s' is not valid (expected a file path, "
                        "sqlite:PATH or postgresql://...)",
                        key, value);
}

static enum ep_status validate_id(const char *key, const char *value,
                                  long number, struct ep_error *err)
{
    (void)number;
    if (strlen(value) > 36)
        return ep_error_set(err, EP_ERR_CONFIG, key,
                            "%s: '%s' is not valid (expected an id of at "
                            "most 36 characters, such as a UUID)",
                            key, value);
    for (const char *p = value; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return ep_error_set(err, EP_ERR_CONFIG, key,
                                "%s: '%s' is not valid (expected letters, "
                                "digits, '-' or '_', such as a UUID)",
                                key, value);
    }
    return EP_OK;
}

static enum ep_status validate_zone(const char *key, const char *value,
                                    long number, struct ep_error *err)
{
    (void)number;
    if (ep_tz_is_known(value))
        return EP_OK;
    return ep_error_set(err, EP_ERR_CONFIG, key,
                        "%s: '%s' is not valid (expected an IANA zone name "
                        "such as Asia/Jakarta)",
                        key, value);
}

static enum ep_status validate_url(const char *key, const char *value,
                                   long number, struct ep_error *err)
{
    (void)number;
    if ((strncmp(value, "http://", 7) == 0 && value[7] != '\0') ||
        (strncmp(value, "https://", 8) == 0 && value[8] != '\0'))
        return EP_OK;
    return ep_error_set(err, EP_ERR_CONFIG, key,
                        "%s: '%s' is not valid (expected an http:// or "
                        "https:// URL)",
                        key, value);
}

static enum ep_status validate_listen(const char *key, const char *value,
                                      long number, struct ep_error *err)
{
    const char *colon = strrchr(value, ':');
    char *end = NULL;
    long port;

    (void)number;
    if (colon == NULL || colon == value)
        goto bad;
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port < 1 ||
        port > 65535)
        goto bad;
    return EP_OK;
bad:
    return ep_error_set(err, EP_ERR_CONFIG, key,
                        "%s: '%s' is not valid (expected address:port, "
                        "e.g. 0.0.0.0:8080)",
                        key, value);
}

static enum ep_status validate_tokens(const char *key, const char *value,
                                      long number, struct ep_error *err)
{
    size_t run = 0;
    size_t count = 0;

    (void)number;
    for (const char *p = value;; p++) {
        if (*p == ',' || *p == '\0') {
            if (run > 0 && run < 16)
                return ep_error_set(err, EP_ERR_CONFIG, key,
                                    "%s: a token is too short (expected "
                                    "comma-separated tokens of at least 16 "
                                    "characters)",
                                    key);
            count += run > 0;
            run = 0;
            if (*p == '\0')
                break;
        } else if (isgraph((unsigned char)*p)) {
            run++;
        } else if (*p != ' ') {
            return ep_error_set(err, EP_ERR_CONFIG, key,
                                "%s: tokens may hold printable characters "
                                "only",
                                key);
        }
    }
    if (count > EP_CONFIG_MAX_TOKENS)
        return ep_error_set(err, EP_ERR_CONFIG, key, "%s: more than %d tokens",
                            key, EP_CONFIG_MAX_TOKENS);
    return EP_OK;
}

static enum ep_status validate_level(const char *key, const char *value,
                                     long number, struct ep_error *err)
{
    enum ep_log_level level;

    (void)number;
    if (ep_log_level_parse(value, &level))
        return EP_OK;
    return ep_error_set(err, EP_ERR_CONFIG, key,
                        "%s: '%s' is not valid (expected debug, info, warn, "
                        "error or off)",
                        key, value);
}

static enum ep_status validate_sync_mode(const char *key, const char *value,
                                         long number, struct ep_error *err)
{
    (void)number;
    if (strcmp(value, "FULL") == 0 || strcmp(value, "NORMAL") == 0)
        return EP_OK;
    return ep_error_set(err, EP_ERR_CONFIG, key,
                        "%s: '%s' is not valid (expected FULL or NORMAL)", key,
                        value);
}
