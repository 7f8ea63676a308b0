/*
 * The boot CPU's side of the SMP proof program (boot.c): the checks, the
 * model of what each CPU must have taken, and the mailbox protocol.
 */
#ifndef BOOT_H
#define BOOT_H

#include "cpu.h"

extern unsigned ncpus, boot;
/* CPUs that run the mailbox loop (the boot CPU included). */
extern u32 online;
extern u64 freq;
extern u32 expected_sgi[MAX_CPUS][16][MAX_CPUS];
extern u32 expected_ppi[MAX_CPUS][16];
extern u32 passed, failed;
extern const char *phase;

/* One check: passes when `ok`; a failure prints the message and `observed`. */
__attribute__((format(printf, 3, 4))) int expect(int ok, u64 observed, const char *fmt, ...);
/* One check: passes when `observed` equals `expected`. */
__attribute__((format(printf, 3, 4))) int expect_eq(u64 observed, u64 expected, const char *fmt, ...);
/* Names the phase failed checks are reported under. */
void begin(const char *name);

/* `from` writes `value` to GICD_SGIR: every target must take SGI value[3:0] from `from`. */
void model_sgi(unsigned from, u32 value);
/* The boot CPU writes `value` to GICD_SGIR. */
void send_sgi(u32 value);
void verify_counts(const char *after);

u64 post(unsigned c, u64 cmd, u64 a0, u64 a1, u64 a2, u64 a3, int acknowledged);
void wait_ack(unsigned c, u64 seq);
/* Runs a command on CPU c, the boot CPU included, and waits for it. */
void run_on(unsigned c, u64 cmd, u64 a0, u64 a1, u64 a2, u64 a3);
void fence(void);

#endif /* BOOT_H */
