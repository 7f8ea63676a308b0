/*
 * The machine the SMP proof programs expect (QEMU virt's map, which VMKit
 * presents) and what start.S and smp.c share. Included by C and assembly.
 */
#ifndef SMP_H
#define SMP_H

#define RAM_BASE 0x40000000
#define MAX_CPUS 8
/* Each CPU's stack; the stacks sit in .bss, one after the other by index. */
#define STACK_SHIFT 13
#define STACK_SIZE (1 << STACK_SHIFT)

#define UART_BASE 0x09000000
#define UART_DR 0x000
#define UART_FR 0x018
#define UART_FR_TXFF (1 << 5)

/* The exit-status device: 0x5555 passes, (status << 16) | 0x3333 fails. */
#define EXIT_BASE 0x090c0000
#define EXIT_PASS 0x5555
#define EXIT_FAIL 0x3333
/* Exit statuses of the guest's own emergencies (the normal failure status is the failure count). */
#define EXIT_BAD_MPIDR 0xe001
#define EXIT_EXCEPTION 0xe002

#define GICD_BASE 0x08000000
#define GICD_CTLR 0x000
#define GICD_ISENABLER0 0x100
#define GICD_ISPENDR0 0x200
#define GICD_SGIR 0xf00
#define GICC_BASE 0x08010000
#define GICC_CTLR 0x000
#define GICC_PMR 0x004
#define GICC_IAR 0x00c
#define GICC_EOIR 0x010
#define GICC_HPPIR 0x018

#define INTID_VTIMER 27
#define INTID_PTIMER 30

#ifndef __ASSEMBLER__

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define read_sysreg(reg)                                      \
	({                                                    \
		u64 v_;                                       \
		__asm__ volatile("mrs %0, " #reg : "=r"(v_)); \
		v_;                                           \
	})
#define write_sysreg(reg, value) __asm__ volatile("msr " #reg ", %0" ::"r"((u64)(value)) : "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
/* The other CPUs must see a store before what follows it. */
#define dmb() __asm__ volatile("dmb ish" ::: "memory")
#define wfi() __asm__ volatile("wfi" ::: "memory")
#define irq_off() __asm__ volatile("msr daifset, #2" ::: "memory")
#define irq_on() __asm__ volatile("msr daifclr, #2" ::: "memory")

static inline void mmio_write(u64 address, u32 value)
{
	*(volatile u32 *)address = value;
}

static inline u32 mmio_read(u64 address)
{
	return *(volatile u32 *)address;
}

#endif /* __ASSEMBLER__ */
#endif /* SMP_H */
