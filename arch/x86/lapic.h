/* Local APIC in xAPIC (MMIO) or x2APIC (MSR) mode. */
#ifndef ARCH_X86_LAPIC_H
#define ARCH_X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

extern bool lapic_x2apic;
extern uint64_t lapic_base;
extern uint64_t lapic_timer_hz; /* timer ticks per second (divide by 16) */

void lapic_init(void); /* on each CPU */
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Fixed-vector IPI to one CPU (or to self). */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_self(uint8_t vector);
void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t page);
/* Wait for the ICR's delivery-status bit to clear (xAPIC), bounded. */
bool lapic_ipi_wait(void);
/* One-shot or periodic timer; us = 0 stops it. */
void lapic_timer_start(uint8_t vector, uint64_t us, bool periodic);
void lapic_timer_calibrate(void);
/* The destination field value for MSI addresses (xAPIC: 8 bits). */
uint32_t lapic_msi_dest(uint32_t apic_id);

#endif
