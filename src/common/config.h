/*
 * config.h - the effective configuration of one edgepromo instance.
 *
 * Values come, lowest precedence first, from the built-in defaults, the
 * config file (key = value lines, # comments), the environment
 * (EDGEPROMO_<KEY>) and command-line flags. Every key is described once, in
 * the table in config.c (name, type, default, validator, secrecy, help);
 * parsing, validation, the `config` command and the docs all read it. A bad
 * or missing value is an EP_ERR_CONFIG naming the key and the expected form.
 * Not thread-safe while loading; read-only (and shareable) afterwards.
 */
#ifndef EP_CONFIG_H
#define EP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

#define EP_CONFIG_MAX_TOKENS 64

/* Where a value came from, for `edgepromo config`. */
enum ep_config_source {
    EP_CONFIG_FROM_DEFAULT,
    EP_CONFIG_FROM_FILE,
    EP_CONFIG_FROM_ENV,
    EP_CONFIG_FROM_FLAG
};

struct ep_config {
    char *db;                /* SQLite path, sqlite:PATH or postgresql:// */
    char *company_id;        /* whom this edge serves; NULL until set */
    char *store_id;          /* the store; NULL until set */
    char *timezone;          /* IANA zone; NULL: the system's */
    char *cms_url;           /* base URL of the CMS; NULL: no network sync */
    char *cms_token;         /* bearer token for the CMS; secret */
    char *cms_ca_file;       /* CA bundle for HTTPS; NULL: libcurl's */
    char *listen;            /* address:port of the POS API */
    char *api_tokens;        /* comma-separated terminal tokens; secret */
    char *log_level;         /* debug, info, warn, error, off */
    char *usage_synchronous; /* FULL or NORMAL: durability of commits */
    long sync_interval;      /* seconds between incremental syncs */
    long full_sync_interval; /* seconds between full syncs */
    long request_timeout;    /* seconds for one CMS call */
    long connect_timeout;    /* seconds to connect to the CMS */
    long threads;            /* HTTP worker threads */
    long max_body_bytes;     /* largest accepted request body */
    long idle_timeout;       /* seconds before an idle connection closes */
    long max_connections;    /* open POS connections at most */
    char *tokens[EP_CONFIG_MAX_TOKENS]; /* api_tokens split; owned */
    size_t token_count;                 /* entries in tokens */
    enum ep_config_source *sources;     /* per key, table order; owned */
};

/* Fills cfg with the defaults. EP_ERR_NOMEM on failure. */
enum ep_status ep_config_init(struct ep_config *cfg);

/* Frees everything cfg owns; NULL is a no-op. */
void ep_config_deinit(struct ep_config *cfg);

/*
 * Reads a config file. Unknown keys, lines without '=' and bad values are
 * errors naming the file, line and key. EP_ERR_CONFIG or EP_ERR_IO.
 */
enum ep_status ep_config_load_file(struct ep_config *cfg, const char *path,
                                   struct ep_error *err);

/* Applies EDGEPROMO_<KEY> variables from the environment. */
enum ep_status ep_config_load_env(struct ep_config *cfg, struct ep_error *err);

/* Sets one key from a flag or elsewhere; the value is validated. */
enum ep_status ep_config_set(struct ep_config *cfg, const char *key,
                             const char *value, enum ep_config_source source,
                             struct ep_error *err);

/* Checks that key (e.g. "store_id") has a value; EP_ERR_CONFIG if not. */
enum ep_status ep_config_require(const struct ep_config *cfg, const char *key,
                                 struct ep_error *err);

/* Writes the effective values as a JSON object, secrets masked. */
void ep_config_to_json(const struct ep_config *cfg, struct ep_buf *out);

/* True when token is one of the configured api_tokens (constant time). */
bool ep_config_token_is_valid(const struct ep_config *cfg, const char *token,
                              size_t token_len);

/* Writes the keys with their help text, for --help and docs. */
void ep_config_describe(struct ep_buf *out);

#endif
