/*
 * The console and the end of the run: formatted lines on the PL011 and the
 * exit-status device.
 */
#include "cpu.h"

void putc_(char c)
{
	while (mmio_read(UART_BASE + UART_FR) & UART_FR_TXFF)
		;
	mmio_write(UART_BASE + UART_DR, (u8)c);
}

static void put_number(u64 v, unsigned base)
{
	char digits[20];
	int n = 0;
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	while (n > 0)
		putc_(digits[--n]);
}

/* %s, %u, %lu, %ld, %x and %lx: all this program prints. */
void vprint(const char *fmt, __builtin_va_list ap)
{
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			putc_(*f);
			continue;
		}
		int is_long = f[1] == 'l';
		if (is_long)
			f++;
		switch (*++f) {
		case 's':
			for (const char *s = __builtin_va_arg(ap, const char *); *s; s++)
				putc_(*s);
			break;
		case 'u':
			put_number(is_long ? __builtin_va_arg(ap, u64) : __builtin_va_arg(ap, u32), 10);
			break;
		case 'd': {
			long v = is_long ? __builtin_va_arg(ap, long) : __builtin_va_arg(ap, int);
			if (v < 0) {
				putc_('-');
				v = -v;
			}
			put_number((u64)v, 10);
			break;
		}
		case 'x':
			putc_('0');
			putc_('x');
			put_number(is_long ? __builtin_va_arg(ap, u64) : __builtin_va_arg(ap, u32), 16);
			break;
		default:
			putc_('%');
			putc_(*f);
		}
	}
}

void print(const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	vprint(fmt, ap);
	__builtin_va_end(ap);
}

void exit_with(u32 status)
{
	mmio_write(EXIT_BASE, status == 0 ? EXIT_PASS : (status << 16) | EXIT_FAIL);
	for (;;)
		wfi();
}

void unexpected_exception(u64 vector, u64 esr, u64 elr, u64 far)
{
	print("smp: CPU %lu: unexpected exception at vector %lx, ESR %lx, ELR %lx, FAR %lx\n",
	      read_sysreg(tpidr_el1), vector, esr, elr, far);
	exit_with(EXIT_EXCEPTION);
}
