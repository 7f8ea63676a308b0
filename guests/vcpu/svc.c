/*
 * SVC: from EL0 with the smallest, a middle and the largest immediate, and
 * from EL1 on each stack pointer. The EL1 handler records what it was given
 * and returns x0 + imm as a "system call" result, so the caller proves both
 * directions: the exception entry (syndrome, return address, saved PSTATE,
 * vector, stack) and the return (ERET to the next instruction with
 * registers, flags and stack intact).
 */
#include "guest.h"

u64 el0_svcs(u64 out);
u64 el1h_svc(u64 arg);
u64 el1t_svc(u64 arg, u64 stack_top);
extern char el0_svc_0_ret[], el0_svc_1234_ret[], el0_svc_ffff_ret[];
extern char el1h_svc_ret[], el1t_svc_ret[];
extern char el1_stack[], el1_stack_top[];

struct seen {
	u64 esr, elr, spsr, vector, frame, sp_el0;
};
static struct seen seen[8];
static unsigned nseen;

static u64 el0_out[16];
static u64 el1t_stack[512] __attribute__((aligned(16)));

static int on_sync(struct frame *f, u64 vector)
{
	if (ESR_EC(f->esr) != EC_SVC64 || nseen == 8)
		return 0;
	seen[nseen++] = (struct seen){f->esr, f->elr, f->spsr, vector, (u64)f, f->sp_el0};
	f->x[0] += f->esr & 0xffff;
	return 1;
}

static void check_svc(const char *group, const struct seen *s, u64 imm, const char *ret, u64 spsr,
		      u64 vector)
{
	check_eq_in(group, "ESR", s->esr, ESR(EC_SVC64, imm));
	check_eq_in(group, "ELR after the svc", s->elr, (u64)ret);
	check_eq_in(group, "SPSR", s->spsr, spsr);
	check_eq_in(group, "vector", s->vector, vector);
}

void test_main(void)
{
	sync_handler = on_sync;

	run_el0(el0_svcs, (u64)el0_out, 0);
	check_eq("EL0 svc: three exceptions", nseen, 3);
	/* EL0t with nothing masked and NZCV = 0110. */
	check_svc("EL0 svc #0x0", &seen[0], 0x0, el0_svc_0_ret, 0x60000000, VEC_LOWER64);
	check_eq("EL0 svc #0x0: result in x0", el0_out[0], 0x100);
	check_svc("EL0 svc #0x1234", &seen[1], 0x1234, el0_svc_1234_ret, 0x60000000, VEC_LOWER64);
	check_eq("EL0 svc #0x1234: result in x0", el0_out[1], 0x1234 + 0x200);
	check_svc("EL0 svc #0xffff", &seen[2], 0xffff, el0_svc_ffff_ret, 0x60000000, VEC_LOWER64);
	check_eq("EL0 svc #0xffff: result in x0", el0_out[2], 0xffff + 0x300);
	static const u64 pattern[10] = {0x1919, 0x2020, 0x2121, 0x2222, 0x2323,
					0x2424, 0x2525, 0x2626, 0x2727, 0x2828};
	unsigned changed = 0;
	for (unsigned i = 0; i < 10; i++)
		changed += el0_out[3 + i] != pattern[i];
	check_eq("EL0 svc: x19-x28 preserved (registers changed)", changed, 0);
	check_eq("EL0 svc: SP_EL0 preserved", el0_out[14], el0_out[13]);
	check_eq("EL0 svc: handler saw SP_EL0", seen[0].sp_el0, el0_out[13]);

	/* Everything below runs with DAIF masked, as the entry left it. */
	u64 r = el1h_svc(0x10);
	check_eq("EL1h svc #0x4321: one exception", nseen, 4);
	check_svc("EL1h svc #0x4321", &seen[3], 0x4321, el1h_svc_ret, 0x900003c5, VEC_CUR_SPX);
	check_eq("EL1h svc #0x4321: result in x0", r, 0x4321 + 0x10);

	u64 stack_top = (u64)&el1t_stack[512];
	r = el1t_svc(0x20, stack_top);
	check_eq("EL1t svc #0x5: one exception", nseen, 5);
	check_svc("EL1t svc #0x5", &seen[4], 0x5, el1t_svc_ret, 0x300003c4, VEC_CUR_SP0);
	check_eq("EL1t svc #0x5: result in x0", r, 0x5 + 0x20);
	check_range("EL1t svc #0x5: handler on SP_EL1", seen[4].frame, (u64)el1_stack,
		    (u64)el1_stack_top - FRAME_SIZE);
	check_eq("EL1t svc #0x5: handler saw SP_EL0", seen[4].sp_el0, stack_top);
}
