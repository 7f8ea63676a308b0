/*
 * The SVC call sites of svc.c. They are assembly so the return addresses
 * (labels after each SVC), the flags and the registers around the call are
 * exactly known.
 */
#include "guest.h"

	.text
/*
 * u64 el0_svcs(u64 out): runs at EL0. Makes three SVCs with x0 = 0x100,
 * 0x200, 0x300 and stores what each returned in out[0..2], x19..x28 after
 * the calls in out[3..12], and SP before and after in out[13..14].
 */
	.global	el0_svcs, el0_svc_0_ret, el0_svc_1234_ret, el0_svc_ffff_ret
el0_svcs:
	mov	x9, x0
	mov	x10, sp
	/*
	 * A pattern in the callee-saved registers; run_el0 saved the EL1 ones,
	 * so EL0 may use them. Only the vCPU could change them here.
	 */
	mov	x19, #0x1919
	mov	x20, #0x2020
	mov	x21, #0x2121
	mov	x22, #0x2222
	mov	x23, #0x2323
	mov	x24, #0x2424
	mov	x25, #0x2525
	mov	x26, #0x2626
	mov	x27, #0x2727
	mov	x28, #0x2828
	/* Z and C set: SPSR_EL1 must capture NZCV = 0b0110. */
	mov	x11, #(6 << 28)
	msr	nzcv, x11
	mov	x0, #0x100
	svc	#0
el0_svc_0_ret:
	str	x0, [x9, #0]
	msr	nzcv, x11
	mov	x0, #0x200
	svc	#0x1234
el0_svc_1234_ret:
	str	x0, [x9, #8]
	msr	nzcv, x11
	mov	x0, #0x300
	svc	#0xffff
el0_svc_ffff_ret:
	str	x0, [x9, #16]
	stp	x19, x20, [x9, #24]
	stp	x21, x22, [x9, #40]
	stp	x23, x24, [x9, #56]
	stp	x25, x26, [x9, #72]
	stp	x27, x28, [x9, #88]
	mov	x11, sp
	stp	x10, x11, [x9, #104]
	mov	x0, #0
	ret

/* u64 el1h_svc(u64 arg): SVC #0x4321 at EL1 on SP_EL1, N and V set. */
	.global	el1h_svc, el1h_svc_ret
el1h_svc:
	mov	x9, #(9 << 28)
	msr	nzcv, x9
	svc	#0x4321
el1h_svc_ret:
	ret

/*
 * u64 el1t_svc(u64 arg, u64 stack_top): SVC #0x5 at EL1 on SP_EL0 (EL1t),
 * C and V set. The handler must still run on SP_EL1.
 */
	.global	el1t_svc, el1t_svc_ret
el1t_svc:
	msr	sp_el0, x1
	mov	x9, #(3 << 28)
	msr	nzcv, x9
	msr	spsel, #0
	svc	#0x5
el1t_svc_ret:
	msr	spsel, #1
	ret
