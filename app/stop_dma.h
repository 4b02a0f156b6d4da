/* Stopping the DMA of the devices the tests drove, at the end of a run.
 *
 * Both ends of a run (run_finish and run_abort, app/run_end.c) call it
 * before translation goes off on the units: a device still running with
 * IOVAs (an NVMe controller whose traffic an abort interrupted, an edu
 * transfer in flight) would otherwise DMA untranslated, to the physical
 * addresses its IOVAs name, once the tables are gone. */
#ifndef APP_STOP_DMA_H
#define APP_STOP_DMA_H

/* For every NVMe controller and edu a suite took (its unit is up and it no
 * longer holds its foreign entry) with bus mastering on: an NVMe
 * controller is disabled (CC.EN = 0, bounded wait on CSTS.RDY = 0), then
 * bus mastering is turned off.  One "# end: ..." line per device. */
void stop_test_dma(void);

#endif
