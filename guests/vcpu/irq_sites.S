/*
 * The windows in which irq.c expects its interrupts. Each is bounded by
 * labels, so the handler's ELR can be checked against the range the
 * interrupt may architecturally be taken in, and each spin is bounded, so a
 * lost interrupt is a failed check and not a hang.
 */
#include "guest.h"

#define SPINS 0x100000

	.text
/*
 * u64 el1_irq_window(u32 *flag): unmasks IRQs with one already pending,
 * waits for the handler to set *flag, masks again. Returns the spins left
 * (0: no interrupt came).
 */
	.global	el1_irq_window, el1_irq_window_start, el1_irq_window_end
el1_irq_window:
	mov	x1, #SPINS
	msr	daifclr, #2
el1_irq_window_start:
1:	ldr	w2, [x0]
	cbnz	w2, 2f
	subs	x1, x1, #1
	b.ne	1b
2:
el1_irq_window_end:
	msr	daifset, #2
	mov	x0, x1
	ret

/*
 * u64 el1_irq_async(u32 *flag): with IRQs unmasked, asks the device for an
 * interrupt and waits for it: the line rises in the middle of running code,
 * as a device's would.
 */
	.global	el1_irq_async, el1_irq_async_start, el1_irq_async_end
el1_irq_async:
	mov	x1, #SPINS
	msr	daifclr, #2
	mov	x3, #TESTDEV_BASE
	mov	w4, #1
	str	w4, [x3, #TD_IRQ]
el1_irq_async_start:
1:	ldr	w2, [x0]
	cbnz	w2, 2f
	subs	x1, x1, #1
	b.ne	1b
2:
el1_irq_async_end:
	msr	daifset, #2
	mov	x0, x1
	ret

/* u64 el0_irq_wait(u32 *flag): the same wait at EL0, entered with IRQs unmasked. */
	.global	el0_irq_wait, el0_irq_wait_end
el0_irq_wait:
	mov	x1, #SPINS
1:	ldr	w2, [x0]
	cbnz	w2, 2f
	subs	x1, x1, #1
	b.ne	1b
2:	mov	x0, x1
el0_irq_wait_end:
	ret
