/*
 * fake_cms_main.c - `fake-cms`: the fake CMS of fake_cms.h as a program,
 * for the demo and bench/sync.
 *
 *   fake-cms --full FILE [--incremental FILE] [--port N] [--mode MODE]
 *
 * MODE is ok, hang, close, malformed, gone or an HTTP status (500). Prints
 * "port N" on stdout once listening, then serves until SIGINT or SIGTERM.
 * `curl -d 500 http://127.0.0.1:N/_fake/mode` switches the mode live.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_cms.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: fake-cms --full FILE [--incremental FILE] "
            "[--port N] [--mode ok|hang|close|malformed|gone|STATUS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        { "full", required_argument, NULL, 'f' },
        { "incremental", required_argument, NULL, 'i' },
        { "port", required_argument, NULL, 'p' },
        { "mode", required_argument, NULL, 'm' },
        { NULL, 0, NULL, 0 },
    };
    const char *full = NULL;
    const char *incremental = NULL;
    const char *mode_text = "ok";
    unsigned port = 0;
    enum fake_cms_mode mode = FAKE_CMS_OK;
    int status = 0;
    struct fake_cms *cms;
    int opt;

    while ((opt = getopt_long(argc, argv, "f:i:p:m:", options, NULL)) != -1) {
        if (opt == 'f')
            full = optarg;
        else if (opt == 'i')
            incremental = optarg;
        else if (opt == 'p')
            port = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'm')
            mode_text = optarg;
        else
            return usage();
    }
    if (full == NULL || !fake_cms_mode_parse(mode_text, &mode, &status))
        return usage();
    cms = fake_cms_start_port(port);
    if (cms == NULL || !fake_cms_load_files(cms, full, incremental)) {
        fprintf(stderr, "fake-cms: cannot start or read the bodies\n");
        fake_cms_stop(cms);
        return 1;
    }
    fake_cms_set_mode(cms, mode, status);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("port %u\n", fake_cms_port(cms));
    fflush(stdout);
    while (!stop_requested)
        pause();
    fake_cms_stop(cms);
    return 0;
}
