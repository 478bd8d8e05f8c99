/* test_engine_cases.c - the engine cases of tests/data/engine/. */
#include "case_runner.h"

int main(void)
{
    return case_runner_main("tests/data/engine");
}
