/*
 * Random-size, random-offset loads and stores of random values over the
 * PL011's window (0x0900_0000), 8- and 16-byte ones included; what lands in
 * the data register is kept printable ('.'), so the console stays readable.
 * Afterwards the UART is set up again and must still work: its
 * identification registers unchanged, and these lines printed.
 */
#include "mmio_fuzz.h"

#define ACCESSES 200000
#define UART_FR 0x018
#define UART_LCR_H 0x02c
#define UART_CR 0x030
#define UART_IMSC 0x038
#define UART_ICR 0x044
#define UART_PERIPHID0 0xfe0
#define FR_TXFF (1u << 5)

static u64 printable(u64 offset, u64 v)
{
	return offset < 0x10 ? 0x2e2e2e2e2e2e2e2eUL : v;
}

static u64 ids(void)
{
	u64 v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | (mmio_read32(UART_BASE + UART_PERIPHID0 + 4 * i) & 0xff);
	return v;
}

void test_main(void)
{
	u64 before = ids();
	struct rng rng;
	rng_seed(&rng, 0x9011);
	struct fuzz_stats s = {0};
	mmio_fuzz(&rng, UART_BASE, UART_SIZE, ACCESSES, &s, printable);

	mmio_write32(UART_BASE + UART_IMSC, 0);
	mmio_write32(UART_BASE + UART_ICR, 0x7ff);
	mmio_write32(UART_BASE + UART_LCR_H, 0x70); /* 8 bits, FIFOs on */
	mmio_write32(UART_BASE + UART_CR, 0x301);   /* UART, TX and RX enabled */
	u32 spins = 0;
	while ((mmio_read32(UART_BASE + UART_FR) & FR_TXFF) && spins < 1000000)
		spins++;
	log_str("\n");
	fuzz_report("uart_fuzz", &s);
	check_eq("identification registers unchanged", ids(), before);
	check_eq("the transmit FIFO drains", mmio_read32(UART_BASE + UART_FR) & FR_TXFF, 0);
}
