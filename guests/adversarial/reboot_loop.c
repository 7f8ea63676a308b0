/*
 * Reboots at every boot: one short line, then PSCI SYSTEM_RESET. The VMM
 * clears RAM, reloads the image and starts again, forever; whatever it
 * allocates per reboot must be given back, and whatever it logs per reboot
 * must not flood its own output.
 */
#include "adv.h"

void test_main(void)
{
	log_str("reboot_loop: boot\n");
	psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
	check("PSCI SYSTEM_RESET does not return", 0, 0, 0);
}
