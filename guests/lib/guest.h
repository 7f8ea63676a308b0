/*
 * What every vCPU proof program shares: the test device protocol (README.md),
 * architectural constants, system register access, the exception frame, page
 * table helpers and the EL0 runner. Included by C and by assembly.
 */
#ifndef GUEST_H
#define GUEST_H

/*
 * Where the image is linked and loaded. Suites that QEMU boots as well set
 * IMAGE_BASE 2 MiB in (common.mk): QEMU keeps its boot code at the start of
 * RAM and loads an Image there whatever its header asks for a smaller offset.
 */
#define PHYS_RAM_START 0x40000000 /* QEMU virt's, and VMKit's default */
#ifndef RAM_BASE
#define RAM_BASE PHYS_RAM_START
#endif
#define RAM_SIZE 0x200000
#define PAGE_SIZE 4096

/* The test device the host maps (4 KiB, 32-bit registers). */
#define TESTDEV_BASE 0x0b000000
#define TD_MAGIC 0x00       /* R: TD_MAGIC_VALUE */
#define TD_VERSION 0x04     /* R: 1 */
#define TD_NAME 0x08        /* W: guest-physical address of the check's name */
#define TD_OBSERVED_LO 0x10 /* W */
#define TD_OBSERVED_HI 0x14 /* W */
#define TD_EXPECTED_LO 0x18 /* W */
#define TD_EXPECTED_HI 0x1c /* W */
#define TD_RESULT 0x20      /* W: 1 pass, 0 fail; commits the report */
#define TD_PUTC 0x24        /* W: one byte of log text */
#define TD_IRQ 0x28         /* W: 1 asks the host to raise the IRQ line, 0 to lower it */
#define TD_MAGIC_VALUE 0x54534554 /* "TEST" */

/* The final report: HVC #HVC_DONE with x0 = passed, x1 = failed, x2 = DONE_MAGIC. */
#define HVC_DONE 0xffff
#define DONE_MAGIC 0x454e4f44 /* "DONE" */

/* The SVC immediate EL0 code uses to hand control back to run_el0's caller. */
#define SVC_EL0_EXIT 0xe0e0

/* Exception vector offsets from VBAR_EL1 (ARM ARM D1.10.2). */
#define VEC_CUR_SP0 0x000
#define VEC_CUR_SPX 0x200
#define VEC_LOWER64 0x400
#define VEC_SYNC 0x000
#define VEC_IRQ 0x080

/* SPSR / PSTATE. */
#define SPSR_MODE_MASK 0xf
#define SPSR_EL0T 0x0
#define SPSR_EL1T 0x4
#define SPSR_EL1H 0x5
#define SPSR_DAIF 0x3c0
#define SPSR_I 0x80

/* struct frame, as start.S lays it out. */
#define FRAME_SIZE 288

#define STR_(x) #x
#define STR(x) STR_(x)

#ifndef __ASSEMBLER__

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

/* ESR_ELx: EC in [31:26], IL (32-bit instruction) in bit 25, ISS below. */
#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_IL (1UL << 25)
#define ESR(ec, iss) (((u64)(ec) << 26) | ESR_IL | (u64)(iss))
#define EC_UNKNOWN 0x00
#define EC_SVC64 0x15
#define EC_IABT_LOWER 0x20
#define EC_IABT_CURRENT 0x21
#define EC_DABT_LOWER 0x24
#define EC_DABT_CURRENT 0x25
#define EC_BRK64 0x3c
#define ISS_WNR (1UL << 6)
/* Fault status codes (DFSC/IFSC). */
#define FSC_TRANSLATION(level) (0x04 + (level))
#define FSC_ACCESS_FLAG(level) (0x08 + (level))

/* Stage-1 descriptors, 4 KiB granule (ARM ARM D8.3). */
#define PTE_VALID (1UL << 0)
#define PTE_TABLE (3UL << 0) /* table at level 0-2, page at level 3 */
#define PTE_BLOCK (1UL << 0) /* block at level 1-2 */
#define PTE_PAGE (3UL << 0)
#define PTE_NORMAL (0UL << 2) /* MAIR attribute 0 */
#define PTE_DEVICE (1UL << 2) /* MAIR attribute 1 */
#define PTE_AP_EL0 (1UL << 6) /* EL0 may access */
#define PTE_AP_RO (1UL << 7)
#define PTE_SH_INNER (3UL << 8)
#define PTE_AF (1UL << 10)
#define PTE_PXN (1UL << 53)
#define PTE_UXN (1UL << 54)
#define PTE_ADDR_MASK 0x0000fffffffff000UL
/* Kernel data: EL1 read/write, never executable. */
#define PTE_EL1_DATA (PTE_NORMAL | PTE_SH_INNER | PTE_AF | PTE_PXN | PTE_UXN)
/* Data EL0 may read and write too. */
#define PTE_EL0_DATA (PTE_EL1_DATA | PTE_AP_EL0)

#define read_sysreg(reg)                                      \
	({                                                    \
		u64 v_;                                       \
		__asm__ volatile("mrs %0, " #reg : "=r"(v_)); \
		v_;                                           \
	})
#define write_sysreg(reg, value) __asm__ volatile("msr " #reg ", %0" ::"r"((u64)(value)) : "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
#define barrier() __asm__ volatile("" ::: "memory")

/* Registers as the vector code saved them; a handler may change elr, spsr and x[]. */
struct frame {
	u64 x[31];
	u64 sp_el0;
	u64 elr;
	u64 spsr;
	u64 esr;
	u64 far;
};
_Static_assert(sizeof(struct frame) == FRAME_SIZE, "start.S and struct frame disagree");

/*
 * A program's handler for synchronous exceptions or IRQs. `vector` is the
 * offset from VBAR_EL1 the exception arrived at. Returns nonzero if it
 * handled the exception; anything unhandled is a failed check and ends the
 * program.
 */
typedef int exception_handler(struct frame *f, u64 vector);
extern exception_handler *sync_handler;
extern exception_handler *irq_handler;

/* Reporting (runtime.c). */
void check(const char *name, int pass, u64 observed, u64 expected);
static inline void check_eq(const char *name, u64 observed, u64 expected)
{
	check(name, observed == expected, observed, expected);
}
/* Passes when lo <= observed <= hi; reports lo as the expected value. */
static inline void check_range(const char *name, u64 observed, u64 lo, u64 hi)
{
	check(name, observed >= lo && observed <= hi, observed, lo);
}
/* A check named "<group>: <what>". */
void check_in(const char *group, const char *what, int pass, u64 observed, u64 expected);
static inline void check_eq_in(const char *group, const char *what, u64 observed, u64 expected)
{
	check_in(group, what, observed == expected, observed, expected);
}
/* A value reported without a verdict, for a host that compares machines (report_console.c). */
void note(const char *name, u64 value);
void log_str(const char *s);
void log_hex(u64 v);
void testdev_irq(int level);
__attribute__((noreturn)) void finish(void);
/* The reporter's first words, before the MMU is on (report_*.c). */
void report_start(void);
/* An SMC Calling Convention call over HVC #0 (report_console.c): x0-x3 in, x0 out. */
u64 psci_call(u64 fid, u64 a1, u64 a2, u64 a3);

/* Page tables (runtime.c): the identity map, and room to grow it. */
u64 *pt_entry(u64 va, int level);
u64 *pt_alloc(void);
void pt_set(u64 *entry, u64 desc);
void tlb_flush_va(u64 va);

/*
 * Runs fn(arg) at EL0t with PSTATE.DAIF = daif on the EL0 stack and returns
 * what fn returned (start.S). Returns with DAIF masked, as exception entry
 * leaves it.
 */
u64 run_el0(u64 (*fn)(u64), u64 arg, u64 daif);
/*
 * Enters EL0 at `entry` with the whole `spsr` (AArch32 too: M[4] set, T for
 * Thumb), x0 = arg, x1 and x2 as given and SP (r13 in AArch32) on the EL0
 * stack; returns what an exception handler passes to el0_resume (start.S).
 */
u64 run_el0_spsr(u64 entry, u64 arg, u64 spsr, u64 x1, u64 x2);
/* From an EL1 exception handler only: ends the run_el0* call with `result`. */
void el0_resume(u64 result) __attribute__((noreturn));

/* Each program's body; guest_start() calls it with the MMU on and reports "done" after. */
void test_main(void);

#else /* __ASSEMBLER__ */

/*
 * x0..x29 to and from 30 consecutive 8-byte slots at \base, in register
 * order: the layout both the exception frame and the HVC/SMC stubs use.
 * store_x2_x29 leaves the first two slots to the caller, which still needs
 * two scratch registers at that point.
 */
	.macro	store_x2_x29 base
	stp	x2, x3, [\base, #16]
	stp	x4, x5, [\base, #32]
	stp	x6, x7, [\base, #48]
	stp	x8, x9, [\base, #64]
	stp	x10, x11, [\base, #80]
	stp	x12, x13, [\base, #96]
	stp	x14, x15, [\base, #112]
	stp	x16, x17, [\base, #128]
	stp	x18, x19, [\base, #144]
	stp	x20, x21, [\base, #160]
	stp	x22, x23, [\base, #176]
	stp	x24, x25, [\base, #192]
	stp	x26, x27, [\base, #208]
	stp	x28, x29, [\base, #224]
	.endm

	.macro	load_x0_x29 base
	ldp	x0, x1, [\base, #0]
	ldp	x2, x3, [\base, #16]
	ldp	x4, x5, [\base, #32]
	ldp	x6, x7, [\base, #48]
	ldp	x8, x9, [\base, #64]
	ldp	x10, x11, [\base, #80]
	ldp	x12, x13, [\base, #96]
	ldp	x14, x15, [\base, #112]
	ldp	x16, x17, [\base, #128]
	ldp	x18, x19, [\base, #144]
	ldp	x20, x21, [\base, #160]
	ldp	x22, x23, [\base, #176]
	ldp	x24, x25, [\base, #192]
	ldp	x26, x27, [\base, #208]
	ldp	x28, x29, [\base, #224]
	.endm

/* The callee-saved x19..x30 in a 96-byte frame, for code that gives them away. */
	.macro	push_callee_saved
	stp	x29, x30, [sp, #-96]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	.endm

	.macro	pop_callee_saved
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #96
	.endm

#endif /* __ASSEMBLER__ */
#endif /* GUEST_H */
