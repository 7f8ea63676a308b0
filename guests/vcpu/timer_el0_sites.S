/*
 * EL0 accesses to the counter and the virtual timer, each at a label so a
 * trap's ELR can be compared with it. Each uses its own register, because
 * the register number is part of the trap's syndrome.
 */
#include "guest.h"

	.text
/*
 * u64 el0_timer_ops(u64 cval): writes CVAL = cval, CNTV_CTL = ENABLE | IMASK
 * and a TVAL about 17 s ahead (masked and far away, so that even a write that
 * wrongly takes effect raises no interrupt); returns the counter it read.
 */
	.global	el0_timer_ops, el0_rd_cnt, el0_rd_ctl, el0_wr_cval, el0_wr_ctl, el0_wr_tval
el0_timer_ops:
	mov	x3, x0
	mov	x4, #3
	mov	x5, #0x40000000
el0_rd_cnt:
	mrs	x1, cntvct_el0
el0_rd_ctl:
	mrs	x2, cntv_ctl_el0
el0_wr_cval:
	msr	cntv_cval_el0, x3
el0_wr_ctl:
	msr	cntv_ctl_el0, x4
el0_wr_tval:
	msr	cntv_tval_el0, x5
	mov	x0, x1
	ret
