/* The accesses of probes.S, all with one signature: u64 probe(u64 va, u64 value). */
#ifndef PROBES_H
#define PROBES_H

#include "guest.h"

typedef u64 probe_fn(u64 va, u64 value);
probe_fn probe_ldrb, probe_ldrh, probe_ldrw, probe_ldr, probe_ldp, probe_strb, probe_strh,
	probe_strw, probe_str, probe_stp, probe_ldxr;
extern char probe_ldrb_insn[], probe_ldrh_insn[], probe_ldrw_insn[], probe_ldr_insn[],
	probe_ldp_insn[], probe_strb_insn[], probe_strh_insn[], probe_strw_insn[], probe_str_insn[],
	probe_stp_insn[], probe_ldxr_insn[];

/* One plain access: its function, size, whether it writes, and its one instruction. */
struct probe {
	const char *name;
	probe_fn *fn;
	unsigned size;
	int write;
	const char *insn;
};

/* The loads and stores of every size (not the exclusive). */
#define PROBES_N 10
extern const struct probe probes[PROBES_N];

#endif /* PROBES_H */
