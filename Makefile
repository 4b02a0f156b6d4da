# vtdsync: build the UEFI image, run it under QEMU, test it.
#
#   make          build/vtdsync.efi
#   make run      boot it under QEMU 10 + OVMF (second-stage scenario)
#   make test     host tests, then every QEMU scenario; last line N passed, N failed
#   make usb      build/vtdsync.img, a GPT disk image with a FAT32 ESP (dd it to a stick)
#   make host-test / make scenarios / make fuzz
#   make mutants  known defects built in one at a time; each must be caught (not in make test)
#
# Variables: CROSS_COMPILE=x86_64-linux-gnu-  ACCEL=tcg|kvm  QEMU_EXTRA="..."
#            SCENARIOS="name ..." (subset for make scenarios/test)

BUILD        ?= build
export BUILD
CROSS_COMPILE ?=
CC           := $(CROSS_COMPILE)gcc
LD           := $(CROSS_COMPILE)ld
OBJCOPY      := $(CROSS_COMPILE)objcopy
NM           := $(CROSS_COMPILE)nm
NASM         ?= nasm
HOSTCC       ?= gcc
FUZZCC       ?= clang
PYTHON       ?= python3
EFI_INC      ?= /usr/include/efi
EFI_LIB      ?= /usr/lib
VERSION      := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# --- the firmware image ------------------------------------------------------
FW_DIRS  := boot arch/x86 lib acpi drivers iommu app suites
FW_C     := $(filter-out $(FW_EXCLUDE),$(sort $(foreach d,$(FW_DIRS),$(wildcard $(d)/*.c))))
FW_ASM   := $(sort $(wildcard arch/x86/*.asm))
FW_OBJS  := $(FW_C:%.c=$(BUILD)/fw/%.o) $(FW_ASM:%.asm=$(BUILD)/fw/%.asm.o) \
            $(BUILD)/fw/gen/font8x16.o
# The screen font comes from Debian's console-setup-linux (Terminus, OFL).
FONT     ?= /usr/share/consolefonts/Lat15-Terminus16.psf.gz

# -mgeneral-regs-only: interrupt handlers do not save SSE state, so the image
# never touches it.  -fpic + -Bsymbolic: GNU-EFI's self-relocating PE image.
# Size (README: the image limit): -Os; one section per function and object so
# the link drops what nothing uses; hidden visibility, so the image exports no
# symbols (its relocator, boot/reloc.c, reads only .dynamic, .rela and .relr).
FW_OPT    ?= -Os
FW_CFLAGS := -std=gnu11 $(FW_OPT) -g -ffreestanding -fno-builtin -fno-stack-protector \
    -fno-stack-check -fshort-wchar -mno-red-zone -mgeneral-regs-only -fpic \
    -fvisibility=hidden -ffunction-sections -fdata-sections \
    -fno-strict-aliasing -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
    -Wall -Wextra -Werror -Wno-address-of-packed-member -I. \
    -DVTDSYNC_VERSION='"$(VERSION)"' $(FW_EXTRA_CFLAGS)
# Only boot/ sees the GNU-EFI headers.  vtdsync's own boot/ calls the
# firmware through ms_abi function pointers, without libefi; the test
# fixtures still use libefi and its call wrappers.
BOOT_CFLAGS := -I$(EFI_INC) -I$(EFI_INC)/x86_64 -maccumulate-outgoing-args
FW_BOOT_CFLAGS := -DGNU_EFI_USE_MS_ABI
FW_LDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic --no-undefined \
    -T linker.ld -L$(EFI_LIB)
# The PE file may not grow past this (README: the image limit).
IMAGE_MAX := 262144

all: $(BUILD)/vtdsync.efi

# The compiler flags (less the version string) in a stamp that changes only
# when they do: every object depends on it, so a build directory left from
# other flags (an older -O2 tree) is rebuilt, not linked over the limit.
FW_FLAGS_STAMP := $(BUILD)/fw/flags.stamp
FW_FLAGS_TEXT  := $(filter-out -DVTDSYNC_VERSION=%,$(FW_CFLAGS)) | $(BOOT_CFLAGS) $(FW_BOOT_CFLAGS)
$(FW_FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(FW_FLAGS_TEXT)' | cmp -s - $@ || echo '$(FW_FLAGS_TEXT)' > $@
.PHONY: FORCE
FORCE:

$(BUILD)/fw/boot/%.o: boot/%.c $(FW_FLAGS_STAMP) | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(FW_CFLAGS) $(BOOT_CFLAGS) $(FW_BOOT_CFLAGS) -MMD -c $< -o $@

$(BUILD)/fw/%.o: %.c $(FW_FLAGS_STAMP) | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(FW_CFLAGS) -MMD -c $< -o $@

$(BUILD)/gen/font8x16.c: tools/psf2c.py | deps
	@mkdir -p $(dir $@)
	$(PYTHON) tools/psf2c.py $(FONT) $@

$(BUILD)/fw/gen/font8x16.o: $(BUILD)/gen/font8x16.c
	@mkdir -p $(dir $@)
	$(CC) $(FW_CFLAGS) -c $< -o $@

$(BUILD)/fw/%.asm.o: %.asm | deps
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf64 -g -o $@ $<

$(BUILD)/vtdsync.so: $(FW_OBJS) linker.ld
	@echo "  LD      $@"
	@$(LD) $(FW_LDFLAGS) --gc-sections -z pack-relative-relocs $(EFI_LIB)/crt0-efi-x86_64.o \
	    $(FW_OBJS) -o $@

# The pointers the image stores are relocated by boot/reloc.c (not GNU-EFI's
# _relocate, no libgnuefi), which also reads the packed RELR table
# (-z pack-relative-relocs: ~100 bytes instead of 8 KiB of .rela).
# No .dynsym and no COFF symbol table (--strip-all): nothing in the PE image
# looks symbols up (build/vtdsync.so keeps them for gdb).  The zero tail of
# .data (.bss, last in the image) is not stored in the file (linker.ld).
# Over IMAGE_MAX the build fails and the oversized file is removed, so no
# later step uses it.
$(BUILD)/vtdsync.efi: $(BUILD)/vtdsync.so
	@$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .rel \
	    -j .rela -j .relr -j .reloc --strip-all --target efi-app-x86_64 --subsystem=10 $< $@
	@$(PYTHON) tools/pe-bss-tail.py $@ 0x$$($(NM) $< | sed -n 's/ [a-zA-Z] _bss_start$$//p')
	@$(PYTHON) tools/pe-nxcompat.py $@
	@size=$$(stat -c %s $@); echo "vtdsync.efi: $$size bytes (limit $(IMAGE_MAX)), NX_COMPAT"; \
	if [ $$size -gt $(IMAGE_MAX) ]; then \
	    echo "vtdsync.efi: $$size bytes is over the $(IMAGE_MAX)-byte limit (README: the image limit)" >&2; \
	    rm -f $@; exit 1; fi

# --- test fixtures: small UEFI applications a scenario runs before vtdsync ---
# (tests/fixtures/NAME.c -> build/fixtures/NAME.efi; e.g. firmware that
# leaves VT-d on, then starts \vtdsync.efi)
FIXTURES := $(patsubst tests/fixtures/%.c,$(BUILD)/fixtures/%.efi,$(wildcard tests/fixtures/*.c))
fixtures: $(FIXTURES)
.SECONDARY: $(FIXTURES:.efi=.so)
$(BUILD)/fixtures/%.so: tests/fixtures/%.c linker.ld | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(FW_CFLAGS) $(BOOT_CFLAGS) -MMD -c $< -o $(BUILD)/fixtures/$*.o
	@$(LD) $(FW_LDFLAGS) $(EFI_LIB)/crt0-efi-x86_64.o $(BUILD)/fixtures/$*.o -o $@ -lefi -lgnuefi
$(BUILD)/fixtures/%.efi: $(BUILD)/fixtures/%.so
	@$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
	    -j .rela -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

# --- Secure Boot: the image signed with a lab's key (sbsigntool) -------------
#   make signed SB_KEY=db.key SB_CERT=db.pem  ->  build/vtdsync.signed.efi
#   make usb    SB_KEY=db.key SB_CERT=db.pem  ->  the stick boots the signed image
SB_KEY  ?=
SB_CERT ?=
signed: $(BUILD)/vtdsync.efi | deps
	@if [ -z "$(SB_KEY)" ] || [ -z "$(SB_CERT)" ]; then \
	    echo "make signed: give SB_KEY=key.pem SB_CERT=cert.pem (README: Secure Boot)" >&2; exit 2; fi
	@bash tools/sign-efi.sh "$(SB_KEY)" "$(SB_CERT)" $< $(BUILD)/vtdsync.signed.efi

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- host tests (portable modules compiled for Linux with sanitizers) ---------
HOST_TESTS  := $(sort $(basename $(notdir $(wildcard tests/host/test_*.c))))
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-address-of-packed-member \
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
    -I. -pthread -mcx16 $(HOST_EXTRA_CFLAGS)
host_deps = $(shell sed -n 's|^// HOST-DEPS:||p' tests/host/$(1).c)

define host_rule
$(BUILD)/host/$(1): tests/host/$(1).c $(call host_deps,$(1)) tests/host/check.h | deps
	@mkdir -p $(BUILD)/host
	@echo "  HOSTCC  $$@"
	@$(HOSTCC) $(HOST_CFLAGS) -o $$@ tests/host/$(1).c $(call host_deps,$(1)) -latomic
endef
$(foreach t,$(HOST_TESTS),$(eval $(call host_rule,$(t))))

# Tests of the tools (results reader, LAVA pattern), run like host tests.
TOOL_TESTS := $(sort $(wildcard tests/tools/test_*.py))

# KUNIT_DIR=/path/to/linux/tools/testing/kunit: Linux's own KTAP parser also
# reads the serial samples (tool test) and every scenario's log (its verdict).
export KUNIT_DIR
kunit-check:
	@$(PYTHON) tools/kunit-check.py $(wildcard tests/data/serial/*.log $(BUILD)/scenarios/*/serial.log)

host-build: $(HOST_TESTS:%=$(BUILD)/host/%)

host-test: host-build
	@$(PYTHON) tools/run-tests.py --host $(HOST_TESTS:%=$(BUILD)/host/%) $(TOOL_TESTS)

# --- tools/vtdsync-plan: the DMAR parser and the unit planning built for Linux --
PLAN_SRCS := tools/vtdsync-plan.c lib/printf.c lib/ktap.c acpi/diag.c acpi/table.c acpi/dmar.c \
    acpi/dmar_scope.c iommu/vtd.c iommu/vtd_takeover.c iommu/vtd_alias.c iommu/qi.c iommu/fault.c \
    iommu/context_entry.c lib/why.c
plan: $(BUILD)/vtdsync-plan
$(BUILD)/vtdsync-plan: $(PLAN_SRCS) $(wildcard acpi/*.h iommu/*.h lib/*.h)
	@mkdir -p $(BUILD)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-address-of-packed-member \
	    -I. -o $@ $(PLAN_SRCS)

# --- fuzzers (libFuzzer) --------------------------------------------------------
FUZZERS := $(sort $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c))))
fuzz_deps = $(shell sed -n 's|^// HOST-DEPS:||p' tests/fuzz/$(1).c)
define fuzz_rule
$(BUILD)/fuzz/$(1): tests/fuzz/$(1).c $(call fuzz_deps,$(1)) | deps
	@mkdir -p $(BUILD)/fuzz
	@echo "  FUZZCC  $$@"
	@$(FUZZCC) -std=gnu11 -g -O1 -I. -fsanitize=fuzzer,address,undefined \
	    -o $$@ tests/fuzz/$(1).c $(call fuzz_deps,$(1))
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzz_rule,$(f))))
FUZZ_SECONDS ?= 300
fuzz: $(FUZZERS:%=$(BUILD)/fuzz/%)
	@$(PYTHON) tools/run-tests.py --fuzz $(FUZZ_SECONDS) $^

# --- QEMU -------------------------------------------------------------------------
run: $(BUILD)/vtdsync.efi | deps
	@$(PYTHON) tools/qemu-run.py --scenario run $(if $(ACCEL),--accel $(ACCEL)) \
	    $(if $(QEMU_EXTRA),--qemu-extra "$(QEMU_EXTRA)") $(if $(CFG),--cfg "$(CFG)")

scenarios: $(BUILD)/vtdsync.efi $(BUILD)/vtdsync.img $(FIXTURES) | deps
	@$(PYTHON) tools/run-tests.py --scenarios $(SCENARIOS)

FUZZ_TEST_SECONDS ?= 20
test: $(BUILD)/vtdsync.efi $(BUILD)/vtdsync.img $(FIXTURES) host-build $(FUZZERS:%=$(BUILD)/fuzz/%) | deps
	@$(PYTHON) tools/run-tests.py --host $(HOST_TESTS:%=$(BUILD)/host/%) $(TOOL_TESTS) \
	    --fuzz $(FUZZ_TEST_SECONDS) $(FUZZERS:%=$(BUILD)/fuzz/%) --scenarios $(SCENARIOS)

# --- mutants: firmware and host tests built with one known defect each -------
# (tests/mutants/NN-name.patch, applied to a copy of the tree); each must be
# caught by every host test and QEMU scenario its header names.  Not part of
# `make test`.
mutants: | deps
	@$(PYTHON) tools/mutants.py --root $(BUILD)/mutants

# --- bootable USB image: GPT with one FAT32 ESP, built without root ------------
USB_MB ?= 64
# With SB_KEY/SB_CERT the stick carries the signed image; the stamp file
# rebuilds the image when the signing key changes.
USB_EFI := $(if $(SB_KEY),$(BUILD)/vtdsync.signed.efi,$(BUILD)/vtdsync.efi)
USB_STAMP := $(BUILD)/usb-signing.stamp
$(shell mkdir -p $(BUILD); echo '$(SB_KEY) $(SB_CERT)' | cmp -s - $(USB_STAMP) 2>/dev/null || \
    echo '$(SB_KEY) $(SB_CERT)' > $(USB_STAMP))
usb: $(BUILD)/vtdsync.img
$(BUILD)/vtdsync.signed.efi: $(BUILD)/vtdsync.efi $(USB_STAMP)
	@$(MAKE) --no-print-directory signed
$(BUILD)/vtdsync.img: $(USB_EFI) $(USB_STAMP) tools/vtdsync.cfg.default tools/make-usb.sh | deps
	@bash tools/make-usb.sh $@ $(USB_EFI) tools/vtdsync.cfg.default $(USB_MB)

# Install missing build/run tools (apt; QEMU 10 from bookworm-backports).
deps:
	@bash tools/install-deps.sh

clean:
	rm -rf $(BUILD)

.PHONY: all run test host-test host-build scenarios fuzz deps clean usb mutants signed fixtures plan \
    kunit-check
