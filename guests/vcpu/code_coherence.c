/*
 * Translated-code coherence: new instructions written through a
 * non-executable alias of a code page must run once the guest has done what
 * the architecture asks (DC CVAU, DSB, IC IVAU, DSB, ISB). An emulator keeps
 * translations of guest code; if a store through another virtual address does
 * not drop them, the old code keeps running. That is the situation of every
 * kernel that loads programs through its linear map and runs them at user
 * addresses.
 *
 * One physical page, `jit_page`, is data in the identity map (writable, never
 * executable) and is mapped a second time at VA_EXEC as read-only code. Each
 * round writes a function returning a new value through the identity map,
 * maintains the caches one of several ways, then calls the function at
 * VA_EXEC several times (so a stale translation would certainly be reused)
 * and counts the rounds whose every call returned the new value.
 */
#include "guest.h"

#define VA_EXEC 0x0000008000000000UL
#define ROUNDS 64
#define CALLS 4

static u32 jit_page[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));

enum maintenance { BY_ALIAS, BY_EXEC_VA, IALLU, IALLUIS, EL0_RUNS };

static u32 movz_x0(u64 imm16)
{
	return 0xd2800000u | (u32)(imm16 << 5);
}

/* Code that returns `value`: movz x0, #value; ret; at `slot` words into the page. */
static void write_function(unsigned slot, u64 value)
{
	jit_page[slot] = movz_x0(value);
	jit_page[slot + 1] = 0xd65f03c0u; /* ret */
}

static void maintain(enum maintenance how, unsigned slot)
{
	u64 alias = (u64)&jit_page[slot];
	u64 exec = VA_EXEC + slot * 4;
	/* Clean the new words to the point of unification, then invalidate. */
	__asm__ volatile("dc cvau, %0\n\tdsb ish" ::"r"(alias) : "memory");
	switch (how) {
	case BY_ALIAS:
	case EL0_RUNS:
		__asm__ volatile("ic ivau, %0" ::"r"(alias) : "memory");
		break;
	case BY_EXEC_VA:
		__asm__ volatile("ic ivau, %0" ::"r"(exec) : "memory");
		break;
	case IALLU:
		__asm__ volatile("ic iallu" ::: "memory");
		break;
	case IALLUIS:
		__asm__ volatile("ic ialluis" ::: "memory");
		break;
	}
	__asm__ volatile("dsb ish\n\tisb" ::: "memory");
}

static u64 call_el1(u64 va)
{
	return ((u64(*)(void))va)();
}

/* Rounds (of ROUNDS) in which every call ran the code just written. */
static u64 rounds_right(enum maintenance how, unsigned slot, u64 tag)
{
	u64 right = 0;
	for (u64 round = 0; round < ROUNDS; round++) {
		u64 value = tag << 8 | round;
		write_function(slot, value);
		maintain(how, slot);
		int ok = 1;
		for (int call = 0; call < CALLS; call++) {
			u64 got = how == EL0_RUNS ? run_el0((u64(*)(u64))(VA_EXEC + slot * 4), 0, 0)
						  : call_el1(VA_EXEC + slot * 4);
			ok &= got == value;
		}
		right += ok;
	}
	return right;
}

void test_main(void)
{
	/* Executable at EL0 and EL1, writable by neither: only the alias writes. */
	u64 *l1 = pt_alloc(), *l2 = pt_alloc(), *l3 = pt_alloc();
	pt_set(pt_entry(VA_EXEC, 0), (u64)l1 | PTE_TABLE);
	pt_set(&l1[0], (u64)l2 | PTE_TABLE);
	pt_set(&l2[0], (u64)l3 | PTE_TABLE);
	pt_set(&l3[0], (u64)jit_page | PTE_PAGE | PTE_NORMAL | PTE_SH_INNER | PTE_AF |
			       PTE_AP_RO | PTE_AP_EL0);
	__asm__ volatile("tlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory");

	check_eq("IC IVAU by the writable alias: every round runs the new code",
		 rounds_right(BY_ALIAS, 0, 1), ROUNDS);
	check_eq("IC IVAU by the executable address: every round runs the new code",
		 rounds_right(BY_EXEC_VA, 16, 2), ROUNDS);
	check_eq("IC IALLU: every round runs the new code", rounds_right(IALLU, 32, 3), ROUNDS);
	check_eq("IC IALLUIS: every round runs the new code", rounds_right(IALLUIS, 48, 4),
		 ROUNDS);
	check_eq("EL0 runs it, IC IVAU by the alias: every round runs the new code",
		 rounds_right(EL0_RUNS, 64, 5), ROUNDS);
	/* The same slot again, after other slots ran: translations from before must not return. */
	check_eq("slot reused after the others: every round runs the new code",
		 rounds_right(BY_ALIAS, 0, 6), ROUNDS);
}
