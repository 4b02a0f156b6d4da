/* Suite registration.
 *
 * A suite file registers itself with SUITE("name", order, function); the
 * runner finds every registered suite through a linker section, sorts them
 * by `order` and runs those that `suites=` selects.  Adding a suite never
 * means editing the runner. */
#ifndef APP_SUITE_H
#define APP_SUITE_H

struct suite_desc {
    const char *name;
    int order; /* boot 10, platform 20, vtd 30, isolation 40, devices 45,
                  traffic 50, transitions 60 */
    void (*run)(void);
};

#define SUITE(name_, order_, fn_)                                                          \
    static const struct suite_desc suite_desc_##fn_                                        \
        __attribute__((used, section(".vtdsync_suites"), aligned(8))) = { name_, order_, fn_ }

#endif
