/*
 * The probe handler: every data or instruction abort is recorded and
 * stepped over (a fetch returns to the probe's caller), so one program
 * can provoke many faults and check each.
 */
#include "probe.h"

struct fault last_fault;

static int on_sync(struct frame *f, u64 vector)
{
	u64 ec = ESR_EC(f->esr);
	if (ec != EC_DABT_CURRENT && ec != EC_DABT_LOWER && ec != EC_IABT_CURRENT &&
	    ec != EC_IABT_LOWER)
		return 0;
	last_fault.count++;
	last_fault.esr = f->esr;
	last_fault.far = f->far;
	last_fault.elr = f->elr;
	last_fault.spsr = f->spsr;
	last_fault.vector = vector;
	f->elr = ec == EC_IABT_CURRENT || ec == EC_IABT_LOWER ? f->x[30] : f->elr + 4;
	f->x[0] = SKIPPED;
	return 1;
}

void probe_init(void)
{
	sync_handler = on_sync;
	probe_reset();
}

void probe_reset(void)
{
	last_fault = (struct fault){0, 0, 0, 0, 0, 0};
}

void expect_fault(const char *group, u64 result, u64 esr, u64 far, u64 elr, u64 vector)
{
	check_eq_in(group, "one fault", last_fault.count, 1);
	check_eq_in(group, "ESR", last_fault.esr, esr);
	check_eq_in(group, "FAR", last_fault.far, far);
	check_eq_in(group, "ELR", last_fault.elr, elr);
	check_eq_in(group, "vector", last_fault.vector, vector);
	check_eq_in(group, "access skipped", result, SKIPPED);
	probe_reset();
}

void expect_value(const char *group, u64 result, u64 value)
{
	check_eq_in(group, "no fault", last_fault.count, 0);
	check_eq_in(group, "value", result, value);
	probe_reset();
}
