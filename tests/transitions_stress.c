/* Stress mode (stress=N): N random transitions among the supported,
 * non-blocked states with traffic running, each judged like a matrix pair.
 * Blocked is left out so the traffic never has to be rebuilt mid-storm. */
#include "arch/x86/tsc.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "tests/run.h"
#include "tests/transitions.h"

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

void tx_stress(struct tx *t)
{
    int states[TX_STATES], n = 0;
    for (int s = TX_PT; s < TX_STATES; s++)
        if (t->supported[s])
            states[n++] = s;
    if (n < 2) {
        ktap_case(KTAP_SKIP, "stress", "fewer than two non-blocked states on this unit");
        return;
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull ^ rdtsc();
    uint64_t start = uptime_us();
    uint64_t ops0 = t->traffic.st.ops;
    char first_why[160] = "";
    for (uint32_t i = 0; i < cfg.stress; i++) {
        int to = states[next_random(&seed) % (uint64_t)n];
        if (to == t->current)
            continue;
        enum entry_sync_strategy strat = cfg.strategy == STRATEGY_CLEAR ? ENTRY_SYNC_STRATEGY_CLEAR
                                         : cfg.strategy == STRATEGY_BOTH && (next_random(&seed) & 1)
                                             ? ENTRY_SYNC_STRATEGY_CLEAR
                                             : ENTRY_SYNC_STRATEGY_HITLESS;
        struct tx_measure m;
        char why[160];
        if (!tx_measure(t, t->current, to, strat, &m, why, sizeof(why))) {
            if (!t->stress_failures++)
                ksnprintf(first_why, sizeof(first_why), "update %u: %s", i + 1, why);
        }
        t->stress_updates++;
        t->stress_faults += m.faults;
    }
    t->stress_us = uptime_us() - start;
    t->stress_ops = t->traffic.st.ops - ops0;
    ktap_case(t->stress_failures ? KTAP_FAIL : KTAP_PASS, "stress", "%u of %llu updates failed; first: %s",
              t->stress_failures, (unsigned long long)t->stress_updates, first_why);
}
