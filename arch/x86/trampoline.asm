; Application-processor start-up code.
;
; smp.c copies [ap_trampoline, ap_trampoline_end) to a page below 1 MiB and
; sends the SIPI with that page's number.  The AP starts here in real mode
; with CS = page << 8 and IP = 0, and goes straight to long mode: PAE, our
; page tables, EFER.LME, then CR0.PE|PG together, and a far jump into the
; 64-bit part.  The data block at the end is filled in by smp.c for each
; AP (this code is position-independent within the page).
;
; A CPU that answers its SIPI only after smp.c gave up on it (TCG on a busy
; host, a slow real CPU) would find the data of the next AP here: the same
; record and stack.  So before touching memory each AP compares its own
; APIC ID (CPUID) with the one the page was prepared for, and halts for
; good when they differ.

bits 16
section .text

global ap_trampoline
global ap_trampoline_end
global ap_tramp_gdtr
global ap_tramp_farptr
global ap_tramp_cr3
global ap_tramp_stack
global ap_tramp_arg
global ap_tramp_entry
global ap_tramp_gdt
global ap_tramp_apic_id

%define OFF(x) ((x) - ap_trampoline)

ap_trampoline:
    cli
    cld
    mov ax, cs
    mov ds, ax
    lgdt [OFF(ap_tramp_gdtr)]
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, [OFF(ap_tramp_cr3)]
    mov cr3, eax
    mov ecx, 0xc0000080             ; EFER
    rdmsr
    or eax, 1 << 8                  ; LME
    wrmsr
    mov eax, cr0
    or eax, 0x80000001              ; PG | PE
    mov cr0, eax
    jmp dword far [OFF(ap_tramp_farptr)]

bits 64
ap_long_mode:
    xor eax, eax
    cpuid                           ; eax = highest basic leaf
    cmp eax, 0xb
    jb .initial_apic_id
    mov eax, 0xb                    ; x2APIC topology: EDX = x2APIC ID
    xor ecx, ecx
    cpuid
    test ebx, ebx                   ; EBX = 0: leaf 0xB not implemented
    jz .initial_apic_id
    mov eax, edx
    jmp .check_id
.initial_apic_id:
    mov eax, 1
    cpuid
    shr ebx, 24                     ; CPUID.01H:EBX[31:24], 8-bit APIC ID
    mov eax, ebx
.check_id:
    cmp eax, [rel ap_tramp_apic_id]
    jne .halt                       ; not the CPU this page was prepared for
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, [rel ap_tramp_stack]
    mov rdi, [rel ap_tramp_arg]
    mov rax, [rel ap_tramp_entry]
    xor ebp, ebp
    call rax                        ; ap_main(struct percpu *) does not return
.halt:
    cli
    hlt
    jmp .halt

align 16
ap_tramp_gdt:                       ; null, 64-bit code (0x08), data (0x10)
    dq 0
    dq 0x00af9a000000ffff
    dq 0x00cf92000000ffff
ap_tramp_gdtr:
    dw 23
    dd 0                            ; linear address of ap_tramp_gdt (patched)
align 4
ap_tramp_farptr:
    dd 0                            ; linear address of ap_long_mode (patched)
    dw 0x08
align 8
ap_tramp_cr3:   dq 0
ap_tramp_stack: dq 0
ap_tramp_arg:   dq 0
ap_tramp_entry: dq 0
ap_tramp_apic_id: dd 0
global ap_tramp_long_mode_off
ap_tramp_long_mode_off: dq ap_long_mode - ap_trampoline
ap_trampoline_end:

section .note.GNU-stack noalloc noexec nowrite progbits
