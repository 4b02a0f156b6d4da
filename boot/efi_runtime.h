/* UEFI runtime services the firmware still uses after ExitBootServices.
 * We never call SetVirtualAddressMap, so they run identity-mapped. */
#ifndef BOOT_EFI_RUNTIME_H
#define BOOT_EFI_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

enum efi_reset_kind { EFI_RESET_COLD = 0, EFI_RESET_WARM = 1, EFI_RESET_OFF = 2 };

void efi_runtime_init(uint64_t runtime_services);
/* Returns only if the firmware refused. */
void efi_reset(enum efi_reset_kind kind);
/* Non-volatile, boot-service and runtime access, under vtdsync's vendor GUID.
 * Return 0 on success or the EFI status (low 32 bits). */
uint64_t efi_set_variable(const char *name, const void *data, size_t size);
uint64_t efi_get_variable(const char *name, void *data, size_t *size);
/* Delete the variable; 0 also when there was none. */
uint64_t efi_delete_variable(const char *name);

/* The firmware's wall clock as "YYYY-MM-DDTHH:MM:SS", or "unknown". */
void efi_time_string(char *buf, size_t size);

#endif
