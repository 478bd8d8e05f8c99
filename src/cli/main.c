/*
 * main.c - edgepromo's entry point: global options, configuration, the
 * command dispatch and the one table from statuses to exit codes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"
#include "store/store.h"

/* Exit codes of SPEC.md section 7: 0 ok, 1 run-time failure, 2 bad input. */
static int exit_code_of(enum ep_status status)
{
    switch (status) {
    case EP_OK:
        return 0;
    case EP_ERR_INVALID:
    case EP_ERR_USAGE:
    case EP_ERR_CONFIG:
    case EP_ERR_TOO_LARGE:
    case EP_ERR_NOT_FOUND:
    case EP_ERR_CONFLICT:
        return 2;
    default:
        return 1;
    }
}

static void print_help(FILE *out)
{
    struct ep_buf keys;

    fprintf(out,
            "NAME\n"
            "    edgepromo - point-of-sale promotions server for one store\n\n"
            "SYNOPSIS\n"
            "    edgepromo [--config FILE] [--db URL] [--log-level LEVEL] "
            "COMMAND [ARGS]\n"
            "    edgepromo --help | --version\n\n"
            "COMMANDS\n");
    for (const struct cli_command *c = cli_commands; c->name != NULL; c++)
        fprintf(out, "    %s %s\n        %s\n", c->name, c->synopsis,
                c->summary);
    fprintf(out, "\nCONFIGURATION (key = value; EDGEPROMO_<KEY> overrides)\n");
    ep_buf_init(&keys, 64 * 1024);
    ep_config_describe(&keys);
    if (keys.data != NULL)
        fputs(keys.data, out);
    ep_buf_deinit(&keys);
    fprintf(out, "\nEXIT STATUS\n    0 success, 1 failure at run time, "
                 "2 bad usage or bad input\n");
}

enum ep_status cli_usage_error(struct cli_context *ctx, const char *what)
{
    for (const struct cli_command *c = cli_commands; c->name != NULL; c++) {
        if (strcmp(c->name, ctx->argv[0]) == 0)
            return ep_error_set(&ctx->err, EP_ERR_USAGE, NULL,
                                "%s (usage: edgepromo %s %s)", what, c->name,
                                c->synopsis);
    }
    return ep_error_set(&ctx->err, EP_ERR_USAGE, NULL, "%s", what);
}

enum ep_status cli_print(const struct ep_buf *buf, struct ep_error *err)
{
    enum ep_status status = ep_buf_status(buf);

    if (status != EP_OK)
        return ep_error_set(err, status, NULL, "output: %s",
                            ep_status_message(status));
    if (buf->len > 0 && fwrite(buf->data, 1, buf->len, stdout) != buf->len)
        return ep_error_set(err, EP_ERR_IO, NULL, "cannot write output");
    if (fflush(stdout) != 0)
        return ep_error_set(err, EP_ERR_IO, NULL, "cannot write output");
    return EP_OK;
}

enum ep_status cli_store_open(struct cli_context *ctx, struct store **out)
{
    struct store_options options = { 0 };
    struct store *store = NULL;
    enum ep_status status;

    options.synchronous_normal =
        strcmp(ctx->config.usage_synchronous, "NORMAL") == 0;
    status = store_open(ctx->config.db, &options, &store, &ctx->err);
    if (status != EP_OK)
        return status;
    status = store_migrate(store, 0, NULL, &ctx->err);
    if (status != EP_OK) {
        store_close(store);
        return status;
    }
    *out = store;
    return EP_OK;
}

/* Global options come before the command name. */
static enum ep_status parse_globals(int argc, char **argv,
                                    struct cli_context *ctx, int *command_at)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "db", required_argument, NULL, 'd' },
        { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = NULL;
    const char *level = NULL;
    enum ep_status status = EP_OK;
    int opt;

    while ((opt = getopt_long(argc, argv, "+c:d:l:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            ctx->config_path = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'l':
            level = optarg;
            break;
        case 'h':
            print_help(stdout);
            exit(0);
        case 'V':
            printf("edgepromo %s\n", EP_VERSION);
            exit(0);
        default:
            return ep_error_set(&ctx->err, EP_ERR_USAGE, NULL,
                                "unknown option (see edgepromo --help)");
        }
    }
    if (ctx->config_path == NULL)
        ctx->config_path = getenv("EDGEPROMO_CONFIG");
    if (ctx->config_path != NULL && ctx->config_path[0] != '\0')
        status = ep_config_load_file(&ctx->config, ctx->config_path, &ctx->err);
    if (status == EP_OK)
        status = ep_config_load_env(&ctx->config, &ctx->err);
    if (status == EP_OK && db != NULL)
        status = ep_config_set(&ctx->config, "db", db, EP_CONFIG_FROM_FLAG,
                               &ctx->err);
    if (status == EP_OK && level != NULL)
        status = ep_config_set(&ctx->config, "log_level", level,
                               EP_CONFIG_FROM_FLAG, &ctx->err);
    *command_at = optind;
    return status;
}

static enum ep_status apply_environment(struct cli_context *ctx)
{
    enum ep_log_level level = EP_LOG_INFO;

    ep_log_level_parse(ctx->config.log_level, &level);
    ep_log_set_level(level);
    return ep_tz_apply(ctx->config.timezone, &ctx->err);
}

static enum ep_status dispatch(struct cli_context *ctx)
{
    for (const struct cli_command *c = cli_commands; c->name != NULL; c++) {
        if (strcmp(c->name, ctx->argv[0]) == 0) {
            optind = 0;
            return c->run(ctx);
        }
    }
    return ep_error_set(&ctx->err, EP_ERR_USAGE, NULL,
                        "unknown command '%s' (see edgepromo --help)",
                        ctx->argv[0]);
}

int main(int argc, char **argv)
{
    struct cli_context ctx;
    enum ep_status status;
    int command_at = 0;

    memset(&ctx, 0, sizeof(ctx));
    ep_mem_install_json_allocator();
    status = ep_config_init(&ctx.config);
    if (status != EP_OK) {
        fprintf(stderr, "edgepromo: out of memory\n");
        return 1;
    }
    status = parse_globals(argc, argv, &ctx, &command_at);
    if (status == EP_OK && command_at >= argc)
        status = ep_error_set(&ctx.err, EP_ERR_USAGE, NULL,
                              "no command given (see edgepromo --help)");
    if (status == EP_OK)
        status = apply_environment(&ctx);
    if (status == EP_OK) {
        ctx.argc = argc - command_at;
        ctx.argv = argv + command_at;
        status = dispatch(&ctx);
    }
    if (status != EP_OK)
        fprintf(stderr, "edgepromo: %s\n",
                ctx.err.status != EP_OK ? ctx.err.message
                                        : ep_status_message(status));
    ep_config_deinit(&ctx.config);
    return exit_code_of(status);
}
