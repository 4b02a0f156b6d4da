/* The vtd suite's device-TLB case (tests/vtd_device_tlb.c). */
#ifndef TESTS_VTD_DEVICE_TLB_H
#define TESTS_VTD_DEVICE_TLB_H

void vtd_case_device_tlb(void);

#endif
