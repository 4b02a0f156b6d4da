// HOST-DEPS: suites/transitions_judge.c
/* Lost or wrong: the verdict on a suspect command of the transitions
 * suite (suites/transitions_judge.c). */
#include "tests/host/check.h"
#include "suites/transitions_judge.h"

#include <string.h>

CHECK_STATE_DEFINE;

/* A read that left its buffer poisoned in a breaking window whose fault
 * names its buffer, re-read right afterwards: the textbook lost read. */
static struct tx_suspect_facts lost_read(void)
{
    struct tx_suspect_facts f = {
        .write = false,
        .reread = TX_REREAD_RIGHT,
        .in_window = true,
        .breaking = true,
        .named = true,
        .unrecorded = true,
    };
    return f;
}

static enum tx_suspect_verdict judge(struct tx_suspect_facts f, const char **why)
{
    return tx_judge_suspect(&f, why);
}

TEST(read_lost_in_a_breaking_window)
{
    const char *why;
    struct tx_suspect_facts f = lost_read();
    CHECK(judge(f, &why) == TX_SUSPECT_LOST, "named fault: %s", why);
    f.named = false; /* a collapsed fault: the window faulted for the device */
    CHECK(judge(f, &why) == TX_SUSPECT_LOST, "collapsed fault: %s", why);
}

TEST(a_read_stays_a_mismatch_unless_every_condition_holds)
{
    const char *why;
    struct tx_suspect_facts f = lost_read();
    f.reread = TX_REREAD_WRONG;
    CHECK(judge(f, &why) == TX_SUSPECT_MISMATCH && strstr(why, "re-read"), "wrong re-read");
    f = lost_read();
    f.reread = TX_REREAD_NONE;
    CHECK(judge(f, &why) == TX_SUSPECT_MISMATCH && strstr(why, "could not"), "no re-read");
    f = lost_read();
    f.in_window = false;
    CHECK(judge(f, &why) == TX_SUSPECT_MISMATCH && strstr(why, "before"), "outside the window");
    f = lost_read();
    f.named = false;
    f.unrecorded = false;
    CHECK(judge(f, &why) == TX_SUSPECT_MISMATCH && strstr(why, "no fault"), "no fault at all");
}

TEST(hitless_needs_its_fault_named)
{
    const char *why;
    struct tx_suspect_facts f = lost_read();
    f.breaking = false;
    f.named = false; /* a fault of the device, not of this buffer */
    CHECK(judge(f, &why) == TX_SUSPECT_MISMATCH, "hitless, unnamed: %s", why);
    f.named = true; /* lost, and the caller fails the hitless update for it */
    CHECK(judge(f, &why) == TX_SUSPECT_LOST, "hitless, named: %s", why);
}

TEST(writes)
{
    const char *why;
    struct tx_suspect_facts f = lost_read();
    f.write = true;
    CHECK(judge(f, &why) == TX_SUSPECT_FINE, "data reached the disk");
    f.reread = TX_REREAD_WRONG; /* QEMU stored zeros, reported success */
    CHECK(judge(f, &why) == TX_SUSPECT_LOST, "lost write: %s", why);
    f.named = false;
    f.unrecorded = false;
    CHECK(judge(f, &why) == TX_SUSPECT_MISMATCH, "wrong data, no fault: %s", why);
    f.reread = TX_REREAD_NONE;
    CHECK(judge(f, &why) == TX_SUSPECT_MISMATCH, "no re-read");
}

TEST(fault_names_the_buffer)
{
    struct vtd_fault_record rec[2];
    memset(rec, 0, sizeof(rec));
    rec[0].addr = 0x1b55000;
    rec[0].is_write = false; /* the device read memory: a write command's data */
    rec[1].addr = 0x1b60000;
    rec[1].is_write = true; /* the device wrote memory: a read command's data */
    CHECK(tx_fault_hits(rec, 2, 0x1b55000, 4096, false), "write buffer, first page");
    CHECK(!tx_fault_hits(rec, 2, 0x1b55000, 4096, true), "a read's buffer needs a write fault");
    CHECK(tx_fault_hits(rec, 2, 0x1b5e000, 3 * 4096, true), "third page of a 12 KiB read");
    CHECK(!tx_fault_hits(rec, 2, 0x1b5d000, 3 * 4096, true), "one page past its end");
    CHECK(!tx_fault_hits(rec, 2, 0x1b61000, 4096, true), "the page after");
    CHECK(!tx_fault_hits(rec, 1, 0x1b60000, 4096, true), "only n records count");
    CHECK(!tx_fault_hits(rec, 2, 0x1b60000, 0, true), "an empty buffer");
}

int main(void)
{
    RUN(read_lost_in_a_breaking_window);
    RUN(a_read_stays_a_mismatch_unless_every_condition_holds);
    RUN(hitless_needs_its_fault_named);
    RUN(writes);
    RUN(fault_names_the_buffer);
    return check_finish();
}
