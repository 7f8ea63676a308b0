/*
 * The instructions the self-hosted debug programs (debug_breakpoint.c,
 * debug_watchpoint.c, debug_step.c) aim their breakpoints, watchpoints and
 * steps at, each at a label the C code compares ELR with.
 */
#include "guest.h"

	.text
/* u64 bp_target(u64 x): x + 1. Breakpoints are set on its first instruction. */
	.global	bp_target
bp_target:
	add	x0, x0, #1
	ret

/* u64 el0_call_target(u64 x): at EL0, bp_target(x). */
	.global	el0_call_target
el0_call_target:
	stp	x29, x30, [sp, #-16]!
	bl	bp_target
	ldp	x29, x30, [sp], #16
	ret

/* Accesses: each function is one load or store at its first instruction, then ret. */
	.global	wp_store, wp_load, wp_store_byte, wp_sttr
/* void wp_store(u64 *p, u64 value) */
wp_store:
	str	x1, [x0]
	ret
/* u64 wp_load(u64 *p) */
wp_load:
	ldr	x0, [x0]
	ret
/* void wp_store_byte(u8 *p, u64 value) */
wp_store_byte:
	strb	w1, [x0]
	ret
/* void wp_sttr(u64 *p, u64 value): an unprivileged store, an access as from EL0. */
wp_sttr:
	sttr	x1, [x0]
	ret

/* u64 el0_store(u64 p): at EL0, *p = 0x77. */
	.global	el0_store, el0_store_insn
el0_store:
	mov	x1, #0x77
el0_store_insn:
	str	x1, [x0]
	mov	x0, #0
	ret

/*
 * Software step. SVC #STEP_START asks the EL1 handler to return with
 * SPSR.SS set, so that what follows is stepped; SVC #STEP_STOP turns
 * MDSCR_EL1.SS off again. The numbers are debug_step.c's.
 */
#define STEP_STOP 0x50
#define STEP_START 0x51
#define STEP_START_EL1 0x52
#define STEP_PENDING 0x53
#define STEP_PLAIN_SVC 0x54

/* u64 el0_steps(u64 unused): four additions stepped one by one; returns 4. */
	.global	el0_steps, el0_steps_first, el0_steps_end
el0_steps:
	mov	x0, #0
	svc	#STEP_START
el0_steps_first:
	add	x0, x0, #1
	add	x0, x0, #1
	add	x0, x0, #1
	add	x0, x0, #1
el0_steps_end:
	svc	#STEP_STOP
	ret

/* u64 el0_pending(u64 unused): returns from an SVC with SPSR.SS clear while stepping. */
	.global	el0_pending, el0_pending_next
el0_pending:
	mov	x0, #0
	svc	#STEP_PENDING
el0_pending_next:
	add	x0, x0, #1
	svc	#STEP_STOP
	ret

/* u64 el0_step_svc(u64 unused): an SVC stepped. */
	.global	el0_step_svc, el0_stepped_svc, el0_after_svc
el0_step_svc:
	svc	#STEP_START
el0_stepped_svc:
	svc	#STEP_PLAIN_SVC
el0_after_svc:
	svc	#STEP_STOP
	mov	x0, #0
	ret

/* u64 el0_step_ldxr(u64 p): a load-exclusive stepped. */
	.global	el0_step_ldxr, el0_after_ldxr
el0_step_ldxr:
	svc	#STEP_START
	ldxr	x1, [x0]
el0_after_ldxr:
	clrex
	svc	#STEP_STOP
	mov	x0, x1
	ret

/* u64 el1_steps(void): at EL1, two additions stepped; returns 2. */
	.global	el1_steps, el1_steps_first, el1_steps_end
el1_steps:
	mov	x0, #0
	svc	#STEP_START_EL1
el1_steps_first:
	add	x0, x0, #1
	add	x0, x0, #1
el1_steps_end:
	svc	#STEP_STOP
	ret
