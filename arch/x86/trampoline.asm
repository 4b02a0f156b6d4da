; Application-processor start-up code.
;
; smp.c copies [ap_trampoline, ap_trampoline_end) to a page below 1 MiB and
; sends the SIPI with that page's number.  The AP starts here in real mode
; with CS = page << 8 and IP = 0, and goes straight to long mode: PAE, our
; page tables, EFER.LME, then CR0.PE|PG together, and a far jump into the
; 64-bit part.  The data block at the end is filled in once by smp.c for
; all APs (this code is position-independent within the page).
;
; Every AP is started at once, so each claims the next free slot with a
; locked add on ap_tramp_next: the slot gives its stack and its per-CPU
; record.  A slot number at or above ap_tramp_limit means there is none
; (smp.c closes the door that way when its deadline passes): that AP halts
; for good without touching memory, however late it comes.

bits 16
section .text

global ap_trampoline
global ap_trampoline_end
global ap_tramp_gdtr
global ap_tramp_farptr
global ap_tramp_cr3
global ap_tramp_slots
global ap_tramp_next
global ap_tramp_limit
global ap_tramp_entry
global ap_tramp_gdt

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
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov eax, 1
    lock xadd [rel ap_tramp_next], eax  ; eax = this AP's slot
    cmp eax, [rel ap_tramp_limit]
    jae .halt                       ; no slot left (or the door is closed)
    shl rax, 4                      ; 16-byte slots: stack top, record
    add rax, [rel ap_tramp_slots]
    mov rsp, [rax]
    mov rdi, [rax + 8]
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
ap_tramp_slots: dq 0                ; struct ap_slot[limit]: slot 0 unused (BSP)
ap_tramp_entry: dq 0
ap_tramp_next:  dd 0                ; next slot to claim
ap_tramp_limit: dd 0                ; slots 1 .. limit-1 exist
global ap_tramp_long_mode_off
ap_tramp_long_mode_off: dq ap_long_mode - ap_trampoline
ap_trampoline_end:

section .note.GNU-stack noalloc noexec nowrite progbits
