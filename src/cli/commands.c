/* commands.c - the table of edgepromo commands: dispatch and help read it. */
#include "cli/cli.h"

#include <stddef.h>

const struct cli_command cli_commands[] = {
    { "init", cli_cmd_init, "", "create the database and its schema" },
    { "migrate", cli_cmd_migrate, "",
      "apply pending schema migrations (no change when up to date)" },
    { "config", cli_cmd_config, "",
      "print the effective configuration, secrets masked" },
    { "promotions", cli_cmd_promotions,
      "[--active] [--at TIME] [--brand ID] [--code CODE]",
      "list stored promotions" },
    { "stats", cli_cmd_stats, "[--days N]", "sync and usage statistics" },
    { "serve", cli_cmd_serve, "", "serve the POS API until SIGTERM or SIGINT" },
    { "evaluate", cli_cmd_evaluate, "FILE|-",
      "price a cart, or JSON Lines of carts (one response a line)" },
    { "commit", cli_cmd_commit, "FILE|-",
      "check out a cart: record its promotions' uses once" },
    { "void", cli_cmd_void, "TXID", "void a checkout, giving its uses back" },
    { "sync", cli_cmd_sync, "[--full|--incremental] [--from FILE]",
      "sync promotions from the CMS, or import a full-sync body from FILE" },
    { "holidays", cli_cmd_holidays, "import FILE",
      "replace the imported holiday calendar (JSON or CSV date,name)" },
    { "demo", cli_cmd_demo, "[--from FILE] [--no-serve]",
      "load the example store's promotions and serve them" },
    { "backup", cli_cmd_backup, "FILE",
      "copy the SQLite database to FILE while the server runs" },
    { "restore", cli_cmd_restore, "FILE",
      "check FILE and replace the database with it (old one kept)" },
    { NULL, NULL, NULL, NULL },
};
