/* case_runner.h - runs every engine case file in a folder of the source
 * tree as one cmocka test each; returns the number that failed. */
#ifndef EP_TEST_CASE_RUNNER_H
#define EP_TEST_CASE_RUNNER_H

int case_runner_main(const char *folder);

#endif
