/*
 * fuzz_config.c - libFuzzer target: config parsing (ep_config_load_file,
 * every key's validator, the token list) and `edgepromo config`'s JSON.
 *
 * Input: a config file. It is written to a memory file and loaded through
 * its /proc/self/fd path, as `--config FILE` would read it. Checked: a
 * failure is EP_ERR_CONFIG whose message names the file and line; a
 * success leaves every number inside its range, every token valid, a zone
 * that is a tz database file, and a config whose JSON parses and never
 * shows a secret (api_tokens, cms_token) in clear.
 *
 *   fuzz_config fuzz/corpus/fuzz_config -dict=fuzz/fuzz_config.dict
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/mem.h"
#include "fuzz_support.h"

#define INPUT_MAX ((size_t)256 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memory_file(void)
{
    static int fd = -1;

    if (fd < 0)
        fd = memfd_create("fuzz-config", 0);
    FUZZ_CHECK(fd >= 0, "memfd_create failed");
    return fd;
}

static void check_numbers(const struct ep_config *c)
{
    FUZZ_CHECK(c->sync_interval >= 1 && c->sync_interval <= 86400 * 7,
               "sync_interval %ld", c->sync_interval);
    FUZZ_CHECK(c->full_sync_interval >= 1 &&
                   c->full_sync_interval <= 86400 * 30,
               "full_sync_interval %ld", c->full_sync_interval);
    FUZZ_CHECK(c->request_timeout >= 1 && c->request_timeout <= 3600,
               "request_timeout %ld", c->request_timeout);
    FUZZ_CHECK(c->connect_timeout >= 1 && c->connect_timeout <= 600,
               "connect_timeout %ld", c->connect_timeout);
    FUZZ_CHECK(c->threads >= 1 && c->threads <= 256, "threads %ld", c->threads);
    FUZZ_CHECK(c->max_body_bytes >= 1024 &&
                   c->max_body_bytes <= 64L * 1024 * 1024,
               "max_body_bytes %ld", c->max_body_bytes);
}

/* A secret's value must not appear as the value of its key. */
static void check_masked(const json_t *root, const char *key,
                         const char *secret)
{
    const json_t *entry = json_object_get(root, key);
    const char *shown = json_string_value(json_object_get(entry, "value"));

    FUZZ_CHECK(entry != NULL, "config JSON without %s", key);
    if (secret == NULL || strcmp(secret, "********") == 0)
        return;
    FUZZ_CHECK(shown != NULL, "%s not shown", key);
    FUZZ_CHECK(strcmp(shown, secret) != 0, "%s shown in clear", key);
}

/* An accepted zone is a tz database file (TZif), not a folder or a table. */
static void check_zone(const char *zone)
{
    char path[512];
    char magic[4] = { 0 };
    FILE *file;

    if (zone == NULL)
        return;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
    file = fopen(path, "rb");
    FUZZ_CHECK(file != NULL, "zone %s accepted, %s cannot be read", zone, path);
    FUZZ_CHECK(fread(magic, 1, 4, file) == 4 && memcmp(magic, "TZif", 4) == 0,
               "zone '%s' accepted, but %s is not a tz file", zone, path);
    fclose(file);
}

static void check_loaded(const struct ep_config *c)
{
    struct ep_buf out;
    json_t *root;

    check_numbers(c);
    check_zone(c->timezone);
    FUZZ_CHECK(c->token_count <= EP_CONFIG_MAX_TOKENS, "token_count");
    for (size_t i = 0; i < c->token_count; i++)
        FUZZ_CHECK(
            ep_config_token_is_valid(c, c->tokens[i], strlen(c->tokens[i])),
            "token %zu is not valid", i);
    FUZZ_CHECK(c->token_count == 0 || !ep_config_token_is_valid(c, "x", 1),
               "a one-letter token is valid");
    ep_buf_init(&out, 1 << 20);
    ep_config_to_json(c, &out);
    FUZZ_CHECK(ep_buf_status(&out) == EP_OK, "config JSON not written");
    root = json_loadb(out.data, out.len, 0, NULL);
    FUZZ_CHECK(root != NULL, "config JSON does not parse: %s", out.data);
    check_masked(root, "api_tokens", c->api_tokens);
    check_masked(root, "cms_token", c->cms_token);
    json_decref(root);
    ep_buf_deinit(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ep_config config;
    struct ep_error err = { 0 };
    char path[64];
    int fd;
    enum ep_status status;

    if (size > INPUT_MAX)
        return 0;
    fuzz_init();
    fd = memory_file();
    FUZZ_CHECK(ftruncate(fd, 0) == 0 &&
                   pwrite(fd, data, size, 0) == (ssize_t)size,
               "cannot write the memory file");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    FUZZ_CHECK(ep_config_init(&config) == EP_OK, "ep_config_init");
    status = ep_config_load_file(&config, path, &err);
    if (status == EP_OK) {
        check_loaded(&config);
    } else {
        FUZZ_CHECK(status == EP_ERR_CONFIG, "status %s: %s",
                   ep_status_name(status), err.message);
        FUZZ_CHECK(err.status == status &&
                       strncmp(err.message, path, strlen(path)) == 0,
                   "message does not name the file: %s", err.message);
        FUZZ_CHECK(strchr(err.message + strlen(path), ':') != NULL,
                   "message without a line: %s", err.message);
    }
    ep_config_deinit(&config);
    return 0;
}
