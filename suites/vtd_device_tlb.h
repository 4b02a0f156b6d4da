/* The vtd suite's device-TLB case (suites/vtd_device_tlb.c). */
#ifndef SUITES_VTD_DEVICE_TLB_H
#define SUITES_VTD_DEVICE_TLB_H

void vtd_case_device_tlb(void);

#endif
