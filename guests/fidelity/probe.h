/*
 * Single accesses that may fault, and a handler that records the fault and
 * steps over it: what the fidelity programs build their checks from.
 */
#ifndef PROBE_H
#define PROBE_H

#include "guest.h"

/* What a probe returns when its access faulted (the handler puts it in x0). */
#define SKIPPED 0x5c1d5c1dUL

/* Each access is one instruction at the label of the same name plus _insn. */
u64 probe_ldr64(u64 va);
u64 probe_ldr32(u64 va);
u64 probe_ldrh(u64 va);
u64 probe_ldrb(u64 va);
u64 probe_str64(u64 va, u64 value);
u64 probe_str32(u64 va, u64 value);
u64 probe_strh(u64 va, u64 value);
u64 probe_strb(u64 va, u64 value);
/* ldp x0, x1 from va; returns x0 ^ rotated x1 so both halves count. */
u64 probe_ldp(u64 va);
/* Branches to va with the link register set: a fetch from va. */
u64 probe_call(u64 va);
extern char probe_ldr64_insn[], probe_ldr32_insn[], probe_ldrh_insn[], probe_ldrb_insn[];
extern char probe_str64_insn[], probe_str32_insn[], probe_strh_insn[], probe_strb_insn[];
extern char probe_ldp_insn[];

/* The last synchronous exception the probe handler took. */
struct fault {
	u64 count, esr, far, elr, spsr, vector;
};
extern struct fault last_fault;

/* Installs the handler: aborts are recorded and stepped over. */
void probe_init(void);
/* Clears last_fault. */
void probe_reset(void);

/* "<group>: ..." checks that exactly one fault with these values was taken. */
void expect_fault(const char *group, u64 result, u64 esr, u64 far, u64 elr, u64 vector);
/* "<group>: no fault" and "<group>: value" checks. */
void expect_value(const char *group, u64 result, u64 value);

/* Syndromes of a synchronous external abort (FSC 0x10) as QEMU's virt reports it. */
#define FSC_EXTERNAL 0x10
#define FSC_EXTERNAL_WALK(level) (0x14 + (level))

#endif
