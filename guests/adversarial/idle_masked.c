/*
 * Idles for ever with every interrupt masked and no timer armed: WFI in a
 * loop. Nothing in the guest can end the wait; the VMM must keep waiting,
 * without spinning and without exiting, until the user quits (Ctrl-A x), a
 * signal arrives or --timeout runs out.
 */
#include "adv.h"

void test_main(void)
{
	__asm__ volatile("msr daifset, #0xf" ::: "memory");
	log_str("idle_masked: waiting in WFI with interrupts masked\n");
	for (;;)
		__asm__ volatile("wfi" ::: "memory");
}
