/*
 * IRQs from the vCPU's interrupt line, three ways: pending while masked at
 * EL1 and taken when unmasked (VBAR+0x280), pending when EL1 returns to EL0
 * with IRQs unmasked (VBAR+0x480), and raised while EL1 runs unmasked. The
 * guest asks for each interrupt through the test device (the host raises
 * the line) and its handler asks the host to lower it again, as a driver
 * acknowledging its device would; exactly one interrupt must arrive each
 * time, at the right vector, with ELR inside the window it was expected in.
 */
#include "guest.h"

u64 el1_irq_window(volatile u32 *flag);
u64 el1_irq_async(volatile u32 *flag);
u64 el0_irq_wait(u64 flag);
extern char el1_irq_window_start[], el1_irq_window_end[];
extern char el1_irq_async_start[], el1_irq_async_end[];
extern char el0_irq_wait_end[];

static volatile u32 flag;
static unsigned nirq;
static u64 irq_vector, irq_elr, irq_spsr;

static int on_irq(struct frame *f, u64 vector)
{
	nirq++;
	irq_vector = vector;
	irq_elr = f->elr;
	irq_spsr = f->spsr;
	testdev_irq(0);
	flag = 1;
	return 1;
}

static void check_irq(const char *group, u64 spins_left, u64 vector, const char *from,
		      const char *to, u64 spsr)
{
	check_in(group, "taken before the spin ran out", spins_left != 0, spins_left, 1);
	check_eq_in(group, "exactly one interrupt", nirq, 1);
	check_eq_in(group, "vector", irq_vector, vector);
	check_in(group, "ELR in the window", irq_elr >= (u64)from && irq_elr <= (u64)to, irq_elr,
		 (u64)from);
	check_eq_in(group, "SPSR", irq_spsr & (SPSR_DAIF | SPSR_MODE_MASK), spsr);
	nirq = 0;
	flag = 0;
}

void test_main(void)
{
	irq_handler = on_irq;

	/* Masked (as the entry left PSTATE), so the raised line must wait. */
	testdev_irq(1);
	for (volatile unsigned i = 0; i < 300000; i++)
		;
	check_eq("EL1 masked: no interrupt while PSTATE.I is set", nirq, 0);
	u64 left = el1_irq_window(&flag);
	/* D, A and F stay masked; I was clear when the interrupt came. */
	check_irq("EL1 unmask", left, VEC_CUR_SPX + VEC_IRQ, el1_irq_window_start,
		  el1_irq_window_end, 0x340 | SPSR_EL1H);

	testdev_irq(1);
	left = run_el0(el0_irq_wait, (u64)&flag, 0);
	check_irq("EL0", left, VEC_LOWER64 + VEC_IRQ, (const char *)el0_irq_wait, el0_irq_wait_end,
		  SPSR_EL0T);

	left = el1_irq_async(&flag);
	check_irq("EL1 async", left, VEC_CUR_SPX + VEC_IRQ, el1_irq_async_start, el1_irq_async_end,
		  0x340 | SPSR_EL1H);
}
