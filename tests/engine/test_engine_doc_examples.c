/* test_engine_doc_examples.c - the worked examples of docs/engine.md, each
 * kept as a case in tests/data/engine_examples/. */
#include "case_runner.h"

int main(void)
{
    return case_runner_main("tests/data/engine_examples");
}
