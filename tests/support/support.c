/* support.c - the shared test helpers of support.h. */
#define _GNU_SOURCE
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *test_source_dir(void)
{
    const char *dir = getenv("EP_SOURCE_DIR");

    return dir != NULL ? dir : ".";
}

const char *test_binary(void)
{
    const char *bin = getenv("EP_BINARY");

    return bin != NULL ? bin : "./edgepromo";
}

void test_source_path(const char *relative, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", test_source_dir(), relative);
}

void test_tmpdir(char *out, size_t size)
{
    const char *base = getenv("TMPDIR");

    snprintf(out, size, "%s/edgepromo-test-XXXXXX", base ? base : "/tmp");
    if (mkdtemp(out) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

void test_rmdir(const char *path)
{
    char command[4200];

    if (path == NULL || strstr(path, "edgepromo-test-") == NULL)
        return;
    snprintf(command, sizeof(command), "rm -rf '%s'", path);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", path);
}

char *test_read_file(const char *path, size_t *length_out)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        data = malloc((size_t)size + 1);
        if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
            free(data);
            data = NULL;
        }
        if (data != NULL) {
            data[size] = '\0';
            if (length_out != NULL)
                *length_out = (size_t)size;
        }
    }
    fclose(f);
    return data;
}

bool test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    bool ok;

    if (f == NULL)
        return false;
    ok = fwrite(text, 1, strlen(text), f) == strlen(text);
    return fclose(f) == 0 && ok;
}

static char *slurp_fd(int fd)
{
    size_t cap = 4096;
    size_t len = 0;
    char *data = malloc(cap);
    ssize_t n;

    if (data == NULL)
        return NULL;
    while ((n = read(fd, data + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2) {
            char *grown = realloc(data, cap * 2);
            if (grown == NULL)
                break;
            data = grown;
            cap *= 2;
        }
    }
    data[len] = '\0';
    return data;
}

int test_run(const char *command, char **stdout_out, char **stderr_out)
{
    char err_path[] = "/tmp/edgepromo-test-stderr-XXXXXX";
    int err_fd = mkstemp(err_path);
    char *err_text;
    char full[8192];
    FILE *pipe;
    int status;

    if (err_fd < 0)
        return -1;
    snprintf(full, sizeof(full), "%s 2>%s", command, err_path);
    pipe = popen(full, "r");
    if (pipe == NULL) {
        close(err_fd);
        unlink(err_path);
        return -1;
    }
    if (stdout_out != NULL)
        *stdout_out = slurp_fd(fileno(pipe));
    else
        free(slurp_fd(fileno(pipe)));
    status = pclose(pipe);
    err_text = slurp_fd(err_fd);
    /* Echoed into the test's own output, so that ctest's log of a run holds
       every line edgepromo logged (test-ops-log-audit greps it). */
    if (err_text != NULL && err_text[0] != '\0')
        fputs(err_text, stderr);
    if (stderr_out != NULL)
        *stderr_out = err_text;
    else
        free(err_text);
    close(err_fd);
    unlink(err_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
