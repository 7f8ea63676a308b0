/*
 * Reporting through the test device of the vCPU harness
 * (packages/vcpu/testdata/guest_harness.ts, protocol in ../vcpu/README.md).
 */
#include "guest.h"

static u32 passed, failed;


static inline void td_write(u32 offset, u32 value)
{
	*(volatile u32 *)(unsigned long)(TESTDEV_BASE + offset) = value;
}

static inline u32 td_read(u32 offset)
{
	return *(volatile u32 *)(unsigned long)(TESTDEV_BASE + offset);
}

void check(const char *name, int pass, u64 observed, u64 expected)
{
	/* Guest RAM lies below 4 GiB, so a 32-bit register holds any name's address. */
	td_write(TD_NAME, (u32)(unsigned long)name);
	td_write(TD_OBSERVED_LO, (u32)observed);
	td_write(TD_OBSERVED_HI, (u32)(observed >> 32));
	td_write(TD_EXPECTED_LO, (u32)expected);
	td_write(TD_EXPECTED_HI, (u32)(expected >> 32));
	td_write(TD_RESULT, pass ? 1 : 0);
	if (pass)
		passed++;
	else
		failed++;
}

void check_in(const char *group, const char *what, int pass, u64 observed, u64 expected)
{
	/* The host reads the name when RESULT is written, so one buffer serves every check. */
	static char name[96];
	unsigned n = 0;
	for (const char *s = group; *s && n < sizeof(name) - 1; s++)
		name[n++] = *s;
	for (const char *s = ": "; *s && n < sizeof(name) - 1; s++)
		name[n++] = *s;
	for (const char *s = what; *s && n < sizeof(name) - 1; s++)
		name[n++] = *s;
	name[n] = 0;
	check(name, pass, observed, expected);
}

void log_str(const char *s)
{
	while (*s)
		td_write(TD_PUTC, (u8)*s++);
}

void log_hex(u64 v)
{
	log_str("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		td_write(TD_PUTC, (u8)"0123456789abcdef"[(v >> shift) & 0xf]);
}

void testdev_irq(int level)
{
	td_write(TD_IRQ, level ? 1 : 0);
}

void finish(void)
{
	register u64 x0 __asm__("x0") = passed;
	register u64 x1 __asm__("x1") = failed;
	register u64 x2 __asm__("x2") = DONE_MAGIC;
	__asm__ volatile("hvc #" STR(HVC_DONE) ::"r"(x0), "r"(x1), "r"(x2) : "memory");
	for (;;)
		__asm__ volatile("wfi");
}

void report_start(void)
{
	check_eq("runtime: test device magic", td_read(TD_MAGIC), TD_MAGIC_VALUE);
}
