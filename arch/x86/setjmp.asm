; A setjmp/longjmp pair for guarded tests: an exception inside a guarded
; region longjmps back to the guard instead of ending the run.
;
; jmp buffer layout (8 qwords): rbx rbp r12 r13 r14 r15 rsp rip, then rflags.

default rel
bits 64
section .text

global arch_setjmp
global arch_longjmp

arch_setjmp:                ; int arch_setjmp(uint64_t buf[9])
    mov [rdi], rbx
    mov [rdi + 8], rbp
    mov [rdi + 16], r12
    mov [rdi + 24], r13
    mov [rdi + 32], r14
    mov [rdi + 40], r15
    lea rdx, [rsp + 8]      ; the caller's rsp after our return
    mov [rdi + 48], rdx
    mov rdx, [rsp]          ; our return address
    mov [rdi + 56], rdx
    pushfq
    pop rdx
    mov [rdi + 64], rdx
    xor eax, eax
    ret

arch_longjmp:               ; void arch_longjmp(uint64_t buf[9], int value)
    mov eax, esi
    test eax, eax
    jnz .nonzero
    inc eax
.nonzero:
    mov rbx, [rdi]
    mov rbp, [rdi + 8]
    mov r12, [rdi + 16]
    mov r13, [rdi + 24]
    mov r14, [rdi + 32]
    mov r15, [rdi + 40]
    mov rsp, [rdi + 48]
    push qword [rdi + 64]
    popfq                   ; restores IF as it was at the guard
    jmp [rdi + 56]

section .note.GNU-stack noalloc noexec nowrite progbits
