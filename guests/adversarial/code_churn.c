/*
 * Code churn for ever: writes ~1 MiB of new code, makes it visible to
 * instruction fetch the way the architecture asks (DC CVAU over the range,
 * DSB, then IC IALLU on even passes and IC IVAU line by line on odd ones,
 * DSB, ISB), calls it, and checks what it computed. Every pass writes
 * different instructions at the same addresses, so the engine must
 * translate all of it again; its buffer of translated code fills unless the
 * VMM empties it, which once crashed the host. A progress line every
 * PROGRESS_EVERY passes says how many passes ran and how many computed the
 * wrong value (the old code ran).
 *
 * Needs RAM up to 0x4060_0000 (vmkit run --mem 8M or more): the code lives
 * in the 2 MiB block at 0x4040_0000, mapped writable and executable at EL1.
 */
#include "adv.h"

#define CODE_BASE 0x40400000UL
#define CODE_BYTES (1UL << 20)
#define CODE_WORDS (CODE_BYTES / 4)
#define LINE 64
#define PROGRESS_EVERY 16

/* ADD X0, X0, #imm12 */
static u32 add_x0(u32 imm12)
{
	return 0x91000000u | (imm12 & 0xfff) << 10;
}

/* Writes the pass's code: x0 += a different immediate per instruction; returns the expected sum. */
static u64 write_code(u64 pass)
{
	volatile u32 *code = (volatile u32 *)CODE_BASE;
	u64 sum = 0;
	u32 step = (u32)(pass * 2654435761u) | 1;
	u32 imm = (u32)pass;
	for (u64 i = 0; i < CODE_WORDS - 1; i++) {
		imm += step;
		code[i] = add_x0(imm >> 20);
		sum += (imm >> 20) & 0xfff;
	}
	code[CODE_WORDS - 1] = 0xd65f03c0u; /* ret */
	return sum;
}

static void make_visible(u64 pass)
{
	for (u64 va = CODE_BASE; va < CODE_BASE + CODE_BYTES; va += LINE)
		__asm__ volatile("dc cvau, %0" ::"r"(va) : "memory");
	__asm__ volatile("dsb ish" ::: "memory");
	if (pass & 1) {
		for (u64 va = CODE_BASE; va < CODE_BASE + CODE_BYTES; va += LINE)
			__asm__ volatile("ic ivau, %0" ::"r"(va) : "memory");
	} else {
		__asm__ volatile("ic iallu" ::: "memory");
	}
	__asm__ volatile("dsb ish\n\tisb" ::: "memory");
}

void test_main(void)
{
	map_block_2m(CODE_BASE, CODE_BASE, 1);
	log_str("code_churn: rewriting and running 1 MiB of code for ever\n");
	u64 wrong = 0;
	for (u64 pass = 1;; pass++) {
		u64 want = write_code(pass);
		make_visible(pass);
		u64 got = ((u64(*)(u64))CODE_BASE)(0);
		if (got != want) {
			if (wrong < 4) {
				log_str("code_churn: pass ");
				log_u64(pass);
				log_str(" computed ");
				log_hex(got);
				log_str(", the code written computes ");
				log_hex(want);
				log_str("\n");
			}
			wrong++;
		}
		if (pass % PROGRESS_EVERY == 0) {
			log_str("code_churn: pass ");
			log_u64(pass);
			log_str(", ");
			log_u64(wrong);
			log_str(" wrong\n");
		}
	}
}
