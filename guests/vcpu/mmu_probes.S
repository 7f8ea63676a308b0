/*
 * The accesses mmu_faults.c provokes faults with, each a single instruction
 * at a label so ELR can be compared with it, and the code page the
 * instruction-abort cases map at addresses of their own.
 */
#include "guest.h"

#define IA_MAGIC 0x1abc

	.text
/* u64 probe_ldr(u64 va): returns the doubleword at va. */
	.global	probe_ldr, probe_ldr_insn
probe_ldr:
probe_ldr_insn:
	ldr	x0, [x0]
	ret

/* void probe_str(u64 va, u64 value) */
	.global	probe_str, probe_str_insn
probe_str:
probe_str_insn:
	str	x1, [x0]
	ret

/*
 * A page of position-independent code: mapped at unmapped addresses by the
 * fault handler and run there.
 */
	.section .text.ia_page, "ax"
	.balign	PAGE_SIZE
	.global	ia_page
ia_page:
	mov	x0, #IA_MAGIC
	ret
	.balign	PAGE_SIZE
