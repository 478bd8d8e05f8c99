/*
 * support.h - helpers the test programs share: temporary folders, reading
 * files, running the edgepromo binary, and the paths of the source tree.
 * Test code only; nothing here is linked into edgepromo.
 */
#ifndef EP_TEST_SUPPORT_H
#define EP_TEST_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The source tree (EP_SOURCE_DIR), for examples/ and tests/data/. */
const char *test_source_dir(void);

/* The edgepromo binary under test (EP_BINARY). */
const char *test_binary(void);

/* Joins the source dir and a relative path into out. */
void test_source_path(const char *relative, char *out, size_t size);

/* Makes a fresh temporary folder; its path is written to out. */
void test_tmpdir(char *out, size_t size);

/* Removes a folder and everything in it. */
void test_rmdir(const char *path);

/* Reads a whole file; the caller frees it with free(). NULL on failure. */
char *test_read_file(const char *path, size_t *length_out);

/* Writes text to a file; false on failure. */
bool test_write_file(const char *path, const char *text);

/*
 * Runs a shell command line; captures stdout (and stderr, if wanted) into
 * malloc'd strings the caller frees. Returns the exit status, or -1.
 */
int test_run(const char *command, char **stdout_out, char **stderr_out);

/*
 * True when got holds everything want holds: objects by key (extra keys in
 * got are fine), arrays by length and element, numbers by value to the
 * hundredth. Prints the first difference (with its path) to stderr.
 */
bool test_json_subset(const json_t *want, const json_t *got, const char *path);

#endif
