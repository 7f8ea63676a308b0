/*
 * Reporting through the machine a VMM presents (QEMU virt's map): lines on
 * the PL011 UART at 0x0900_0000, and the end through PSCI SYSTEM_OFF over
 * HVC. Each check is one line, "check <name>: pass" or "check <name>: FAIL
 * observed 0x.. expected 0x..", each note (a value the host compares across
 * machines) "note <name>: 0x..", and the last line is "done: N passed, M
 * failed", so a host reads the outcome from the console.
 */
#include "guest.h"

#define UART_BASE 0x09000000UL
#define UART_DR 0x000
#define UART_FR 0x018
#define UART_FR_TXFF (1u << 5)
#define PSCI_SYSTEM_OFF 0x84000008UL

static u32 passed, failed;

static void putc_(char c)
{
	volatile u32 *fr = (volatile u32 *)(UART_BASE + UART_FR);
	while (*fr & UART_FR_TXFF)
		;
	*(volatile u32 *)(UART_BASE + UART_DR) = (u8)c;
}

void log_str(const char *s)
{
	while (*s)
		putc_(*s++);
}

void log_hex(u64 v)
{
	log_str("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		putc_("0123456789abcdef"[(v >> shift) & 0xf]);
}

void check(const char *name, int pass, u64 observed, u64 expected)
{
	log_str("check ");
	log_str(name);
	if (pass) {
		log_str(": pass\n");
		passed++;
		return;
	}
	log_str(": FAIL observed ");
	log_hex(observed);
	log_str(" expected ");
	log_hex(expected);
	log_str("\n");
	failed++;
}

void check_in(const char *group, const char *what, int pass, u64 observed, u64 expected)
{
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

void note(const char *name, u64 value)
{
	log_str("note ");
	log_str(name);
	log_str(": ");
	log_hex(value);
	log_str("\n");
}

static void log_dec(u32 v)
{
	char buf[12];
	int n = 0;
	do
		buf[n++] = '0' + v % 10;
	while ((v /= 10) != 0);
	while (n > 0)
		putc_(buf[--n]);
}

/* No interrupt source is wired to this reporter. */
void testdev_irq(int level)
{
	(void)level;
}

u64 psci_call(u64 fid, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 __asm__("x0") = fid;
	register u64 x1 __asm__("x1") = a1;
	register u64 x2 __asm__("x2") = a2;
	register u64 x3 __asm__("x3") = a3;
	__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return x0;
}

void finish(void)
{
	log_str("done: ");
	log_dec(passed);
	log_str(" passed, ");
	log_dec(failed);
	log_str(" failed\n");
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

void report_start(void)
{
	log_str("start\n");
}
