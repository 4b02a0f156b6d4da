; Interrupt and exception entry points.
;
; Every vector 0..255 gets a 16-byte entry at isr_entries + 16 * vector, so C
; can compute each handler address without a relocated table.  An entry makes
; the frame uniform (pushes a zero error code where the CPU does not), pushes
; its vector and jumps to the common path, which saves the general registers
; and calls trap_dispatch(struct trap_frame *).

default rel
bits 64
section .text

extern trap_dispatch
global isr_entries

; Vectors for which the CPU pushes an error code: #DF #TS #NP #SS #GP #PF #AC #CP
%define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21)

align 16
isr_entries:
%assign v 0
%rep 256
    align 16
%if !HAS_ERROR(v)
    push qword 0
%endif
    push qword v
    jmp isr_common
%assign v v+1
%endrep

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    ; Align the stack for the C ABI; rbx is callee-saved and holds the frame.
    mov rbx, rsp
    and rsp, -16
    call trap_dispatch
    mov rsp, rbx
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16             ; vector and error code
    iretq

section .note.GNU-stack noalloc noexec nowrite progbits
