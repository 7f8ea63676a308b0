/*
 * HVC and SMC round trips. Every call carries a known pattern in x0-x30 and
 * NZCV; the host checks the immediate and x0-x7 it was given and answers,
 * by the rule in README.md, in x0-x3. The guest checks the answers (which
 * prove the host saw the right arguments, conduit and immediate) and that
 * nothing else changed: x4-x30, NZCV and SP, as SMCCC requires of the callee.
 */
#include "guest.h"

struct regs {
	u64 in[32];
	u64 out[32];
};

void call_hvc_0(struct regs *r);
void call_hvc_1234(struct regs *r);
void call_smc_0(struct regs *r);
void call_smc_abcd(struct regs *r);
void call_hvc_fffe(struct regs *r);

#define SMC_FLAG 0x10000

/* The value of register i for call number n (1-based); the host test uses the same rule. */
static u64 pattern(u64 n, u64 i)
{
	return 0xc0de000000000000UL | n << 40 | i << 32 | 0xa5a50000UL | i << 8 | i;
}

static struct regs regs __attribute__((aligned(16)));

static void round_trip(const char *group, void (*call)(struct regs *), u64 n, u64 conduit_imm)
{
	for (u64 i = 0; i < 31; i++)
		regs.in[i] = pattern(n, i);
	/* N and C set; a different value than the code around the call leaves behind. */
	regs.in[31] = 0xa0000000;
	call(&regs);

	u64 sum = 0;
	for (unsigned i = 1; i < 8; i++)
		sum += regs.in[i];
	check_eq_in(group, "x0 = ~x0", regs.out[0], ~regs.in[0]);
	check_eq_in(group, "x1 = x1 + ... + x7", regs.out[1], sum);
	check_eq_in(group, "x2 = conduit and immediate", regs.out[2], conduit_imm);
	check_eq_in(group, "x3 = call number", regs.out[3], n);
	/* Reports the number of the first register that changed; 0 means none did. */
	u64 changed = 0;
	for (u64 i = 30; i >= 4; i--)
		if (regs.out[i] != regs.in[i])
			changed = i;
	check_eq_in(group, "x4-x30 preserved", changed, 0);
	check_eq_in(group, "NZCV preserved", regs.out[31], regs.in[31]);
}

void test_main(void)
{
	u64 sp_before = 0, sp_after = 0;
	__asm__ volatile("mov %0, sp" : "=r"(sp_before));
	round_trip("hvc #0x0", call_hvc_0, 1, 0x0);
	round_trip("hvc #0x1234", call_hvc_1234, 2, 0x1234);
	round_trip("smc #0x0", call_smc_0, 3, SMC_FLAG | 0x0);
	round_trip("smc #0xabcd", call_smc_abcd, 4, SMC_FLAG | 0xabcd);
	round_trip("hvc #0xfffe", call_hvc_fffe, 5, 0xfffe);
	__asm__ volatile("mov %0, sp" : "=r"(sp_after));
	check_eq("SP preserved", sp_after, sp_before);
}
