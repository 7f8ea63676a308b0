#include "probes.h"

const struct probe probes[PROBES_N] = {
	{"ldrb", probe_ldrb, 1, 0, probe_ldrb_insn}, {"ldrh", probe_ldrh, 2, 0, probe_ldrh_insn},
	{"ldr w", probe_ldrw, 4, 0, probe_ldrw_insn}, {"ldr x", probe_ldr, 8, 0, probe_ldr_insn},
	{"ldp", probe_ldp, 16, 0, probe_ldp_insn},    {"strb", probe_strb, 1, 1, probe_strb_insn},
	{"strh", probe_strh, 2, 1, probe_strh_insn}, {"str w", probe_strw, 4, 1, probe_strw_insn},
	{"str x", probe_str, 8, 1, probe_str_insn},   {"stp", probe_stp, 16, 1, probe_stp_insn},
};
