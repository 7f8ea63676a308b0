/*
 * The program `rewrite` makes copies of: it prints the number held in the
 * immediate of one instruction. `rewrite` finds that instruction by its
 * placeholder value (VARIANT_PLACEHOLDER in a MOVZ) and patches the number
 * in, so every copy differs in its code, not just in its data.
 */
#include <stdio.h>

int main(void)
{
	unsigned value;
	__asm__ volatile("movz %w0, #0xbeef" : "=r"(value));
	printf("variant %u\n", value);
	return 0;
}
