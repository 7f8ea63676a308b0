/*
 * What every CPU of the SMP proof program shares: PSCI, the mailbox each
 * CPU is driven through, the interrupt counts it keeps, and the helpers
 * both the boot CPU and the others run.
 */
#ifndef CPU_H
#define CPU_H

#include "smp.h"

#define PSCI_CPU_SUSPEND_64 0xc4000001UL
#define PSCI_CPU_OFF 0x84000002UL
#define PSCI_CPU_ON_32 0x84000003UL
#define PSCI_CPU_ON_64 0xc4000003UL
#define PSCI_AFFINITY_INFO_32 0x84000004UL
#define PSCI_AFFINITY_INFO_64 0xc4000004UL

#define PSCI_SUCCESS 0L
#define PSCI_NOT_SUPPORTED (-1L)
#define PSCI_INVALID_PARAMETERS (-2L)
#define PSCI_ALREADY_ON (-4L)
#define PSCI_ON_PENDING (-5L)
#define PSCI_INVALID_ADDRESS (-9L)
#define AFFINITY_ON 0L
#define AFFINITY_OFF 1L
#define AFFINITY_ON_PENDING 2L

#define MPIDR_RES1 (1UL << 31)
/* Context ids: "SMP" in the top bits, the bring-up generation and the CPU below. */
#define CONTEXT_TAG 0x534d500000000000UL
#define context_id(cpu, generation) (CONTEXT_TAG | ((u64)(generation) << 8) | (cpu))

#define SGIR_LIST(mask) ((u32)(mask) << 16)
#define SGIR_ALL_BUT_SELF (1u << 24)
#define SGIR_SELF (2u << 24)
#define SGIR_RESERVED (3u << 24)
#define DOORBELL 0 /* the SGI of the mailbox protocol; the tests use 1-15 */

#define CTL_ENABLE 1
#define CTL_ISTATUS 4
#define DAIF_ALL 0x3c0
#define CURRENT_EL1 (1 << 2)
#define SCTLR_M 1

#define PPI(intid) ((intid) - 16)

enum command {
	CMD_FENCE = 1, /* nothing: acknowledging it means every earlier interrupt was taken */
	CMD_SGI,       /* write arg[0] to GICD_SGIR */
	CMD_TIMERS,    /* arm both timers (arg[0], arg[1] ticks ahead) and wait for both */
	CMD_SUSPEND,   /* CPU_SUSPEND to standby, woken by the virtual timer arg[0] ticks ahead */
	CMD_WAKE_LATER, /* wait arg[0] ticks, then acknowledge */
	CMD_PSCI,      /* result[0] = PSCI call arg[0](arg[1], arg[2], arg[3]) */
	CMD_OFF,       /* CPU_OFF; never acknowledged unless the call returns */
};

struct cpu {
	/* Written by the boot CPU. */
	volatile u64 seq;
	volatile u64 cmd;
	volatile u64 arg[4];
	/* Written by the CPU itself. */
	volatile u64 ack;
	volatile u64 result[3];
	volatile u64 generation; /* entries through secondary_entry so far */
	volatile u64 ctx, daif, el, sctlr, mpidr; /* as it last entered */
	volatile u64 ctx_ok;                      /* whether ctx was the one expected */
	volatile u32 sgi[16][MAX_CPUS]; /* SGIs taken, by id and source CPU */
	volatile u32 ppi[16];           /* PPIs taken, INTID 16-31 */
	volatile u32 other;             /* any other INTID */
	volatile u64 virtual_fired, physical_fired; /* CNTVCT and CNTPCT in the timer handlers */
} __attribute__((aligned(64)));

/* Each CPU's mailbox and interrupt counts. */
extern struct cpu cpus[MAX_CPUS];
/* Written by the boot CPU before any CPU_ON. */
extern volatile u64 boot_cpu;
extern volatile u64 expected_context[MAX_CPUS];
extern char secondary_entry[];

/* An SMC Calling Convention call over HVC #0: x0-x3 in, x0 out. */
long psci(u64 fid, u64 a1, u64 a2, u64 a3);
void gic_cpu_init(void);
void sleep_ticks(u64 ticks);
void do_command(unsigned self, u64 cmd, const volatile u64 *arg, volatile u64 *result);

/* console.c */
void putc_(char c);
__attribute__((format(printf, 1, 0))) void vprint(const char *fmt, __builtin_va_list ap);
__attribute__((format(printf, 1, 2))) void print(const char *fmt, ...);
__attribute__((noreturn)) void exit_with(u32 status);

/*
 * Idles in WFI until `cond` holds. The condition is tested with IRQs masked
 * and WFI still wakes for a pending interrupt, so one that arrives between
 * the test and the WFI is not slept through; unmasking then takes it.
 */
#define WAIT_UNTIL(cond)          \
	do {                      \
		for (;;) {        \
			irq_off();  \
			if (cond)   \
				break; \
			wfi();      \
			irq_on();   \
		}                 \
		irq_on();         \
	} while (0)

#endif /* CPU_H */
