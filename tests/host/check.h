/* A tiny host-test framework that prints KTAP.
 *
 * A host test is tests/host/test_NAME.c with a line
 *     // HOST-DEPS: lib/printf.c iommu/entry_sync.c
 * naming the project sources it links against.  It defines cases with
 * TEST(name) { ... CHECK(cond, "fmt", ...); ... } and a main() that calls
 * RUN(name) for each, then returns check_finish().  A failed CHECK prints a
 * diagnostic and marks the case `not ok`; the binary exits non-zero when any
 * case failed. */
#ifndef TESTS_HOST_CHECK_H
#define TESTS_HOST_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct check_state {
    int cases, failed_cases, skipped_cases;
    int case_failures;
    const char *skip_reason;
    bool header_done;
};
extern struct check_state check_state;

#define CHECK_STATE_DEFINE struct check_state check_state

#define TEST(name) static void test_##name(void)

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            check_state.case_failures++;                                       \
            if (check_state.case_failures <= 20) {                             \
                printf("    # %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__,  \
                       #cond);                                                 \
                printf(__VA_ARGS__);                                           \
                printf("\n");                                                  \
            }                                                                  \
        }                                                                      \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                     \
    CHECK((unsigned long long)(a) == (unsigned long long)(b),                  \
          "%s = %#llx, %s = %#llx", #a, (unsigned long long)(a), #b,           \
          (unsigned long long)(b))

/* Skip the current case with a reason (return from it afterwards). */
#define SKIP(reason) (check_state.skip_reason = (reason))

static inline void check_run(const char *name, void (*fn)(void))
{
    if (!check_state.header_done) {
        printf("KTAP version 1\n");
        check_state.header_done = true;
    }
    check_state.case_failures = 0;
    check_state.skip_reason = NULL;
    fn();
    check_state.cases++;
    if (check_state.case_failures) {
        check_state.failed_cases++;
        printf("not ok %d %s # %d check(s) failed\n", check_state.cases, name,
               check_state.case_failures);
    } else if (check_state.skip_reason) {
        check_state.skipped_cases++;
        printf("ok %d %s # SKIP %s\n", check_state.cases, name,
               check_state.skip_reason);
    } else {
        printf("ok %d %s\n", check_state.cases, name);
    }
    fflush(stdout);
}

#define RUN(name) check_run(#name, test_##name)

/* KTAP v1 has no trailing plan, and the count is not known up front:
 * the document has none. */
static inline int check_finish(void)
{
    printf("# %d cases, %d failed, %d skipped\n", check_state.cases,
           check_state.failed_cases, check_state.skipped_cases);
    return check_state.failed_cases ? 1 : 0;
}

#endif
