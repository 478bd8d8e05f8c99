/*
 * cli.h - what the command files of the cli part share: the context every
 * command gets, the command table, and small helpers for output.
 *
 * The cli holds thin main()s: it parses arguments with getopt_long, loads
 * the config, calls into the parts and prints. Output for machines is JSON
 * on stdout; messages for people go to stderr. Each command returns an
 * enum ep_status, mapped to the exit codes of SPEC.md section 7 (0 success,
 * 1 failure at run time, 2 bad usage or bad input) in one table in main.c.
 */
#ifndef EP_CLI_H
#define EP_CLI_H

#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"

struct store;

struct cli_context {
    struct ep_config config; /* effective configuration */
    const char *config_path; /* --config FILE, or NULL */
    int argc;                /* the command's arguments, argv[0] = name */
    char **argv;
    struct ep_error err; /* the command's error, printed by main */
};

typedef enum ep_status (*cli_command_fn)(struct cli_context *ctx);

struct cli_command {
    const char *name;     /* as typed */
    cli_command_fn run;   /* handler */
    const char *synopsis; /* arguments, manual-page style */
    const char *summary;  /* one line */
};

/* The command table (commands.c), ended by a row with a NULL name. */
extern const struct cli_command cli_commands[];

/* Opens the configured database and migrates it to the latest schema. */
enum ep_status cli_store_open(struct cli_context *ctx, struct store **out);

/* Writes buf to stdout; EP_ERR_IO if it fails. */
enum ep_status cli_print(const struct ep_buf *buf, struct ep_error *err);

/* Sets err to a usage error for the command, naming its synopsis. */
enum ep_status cli_usage_error(struct cli_context *ctx, const char *what);

/* Command handlers, one per file or group of files. */
enum ep_status cli_cmd_init(struct cli_context *ctx);
enum ep_status cli_cmd_migrate(struct cli_context *ctx);
enum ep_status cli_cmd_config(struct cli_context *ctx);
enum ep_status cli_cmd_promotions(struct cli_context *ctx);
enum ep_status cli_cmd_stats(struct cli_context *ctx);
enum ep_status cli_cmd_serve(struct cli_context *ctx);
enum ep_status cli_cmd_evaluate(struct cli_context *ctx);
enum ep_status cli_cmd_commit(struct cli_context *ctx);
enum ep_status cli_cmd_void(struct cli_context *ctx);
enum ep_status cli_cmd_sync(struct cli_context *ctx);
enum ep_status cli_cmd_holidays(struct cli_context *ctx);
enum ep_status cli_cmd_demo(struct cli_context *ctx);
enum ep_status cli_cmd_backup(struct cli_context *ctx);
enum ep_status cli_cmd_restore(struct cli_context *ctx);

#endif
