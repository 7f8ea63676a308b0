// What the demo does, in order: say where it runs, set up the GICv2, take
// timer interrupts through it, ask the PSCI firmware a few questions, and
// power off. Every answer is checked; anything unexpected is printed with
// "!!" and counted, and the demo still powers off at the end, so a broken
// VMM shows up as a message rather than a hang.

	.include "platform.inc"

	.bss
	.balign	8
frequency:	.skip	8			// CNTFRQ_EL0
interval:	.skip	8			// counter ticks between two timer interrupts
next_deadline:	.skip	8			// CNTV_CVAL_EL0 of the coming interrupt
ticks:		.skip	8			// timer interrupts taken so far
failures:	.skip	8			// checks that went wrong
exit_device:	.skip	8			// 1 when the device tree lists the exit-status device

	.text

// main(x0 = device tree address): never returns.
	.global	main
	.type	main, %function
main:
	mov	x19, x0
	bl	uart_init
	adr	x0, msg_banner
	bl	printf
.ifdef DEMO_BROKEN
	// A build made to fail (make BROKEN=1): proves a failed check reaches
	// the VMM's exit status.
	adr	x0, msg_broken
	bl	fail
.endif

	// Where we run. The vectors are EL1's, so anything else cannot go on.
	mrs	x20, CurrentEL
	ubfx	x20, x20, #2, #2
	mov	x1, x20
	mov	x2, x19
	adr	x0, msg_el
	bl	printf
	cmp	x20, #1
	b.eq	1f
	mov	x1, x20
	adr	x0, msg_bad_el
	bl	fail
	b	finish

1:	mrs	x20, midr_el1
	mrs	x21, mpidr_el1
	mov	x0, x20
	bl	cpu_name
	mov	x1, x0
	mov	x2, x20
	mov	x3, x21
	and	x4, x21, #0xff
	adr	x0, msg_cpu
	bl	printf

	// Without a counter frequency there is no way to program the timer.
	mrs	x20, cntfrq_el0
	adr	x0, frequency
	str	x20, [x0]
	isb
	mrs	x2, cntvct_el0
	mov	x1, x20
	adr	x0, msg_counter
	bl	printf
	cbnz	x20, 2f
	adr	x0, msg_no_frequency
	bl	fail
	b	finish

2:	mov	x0, x19
	bl	report_dtb
	mrs	x1, vbar_el1
	adr	x0, msg_vectors
	bl	printf

	bl	gic_init
	bl	timer_ticks
	bl	psci_questions
	b	finish
	.size	main, . - main

// cpu_name(x0 = MIDR_EL1) -> x0 = a name for the CPU models VMKit offers
	.type	cpu_name, %function
cpu_name:
	ubfx	x1, x0, #24, #8			// implementer
	ubfx	x2, x0, #4, #12			// part number
	adr	x0, str_cpu_unknown
	cmp	x1, #0x41			// Arm
	b.ne	1f
	adr	x0, str_cpu_arm
	adr	x3, str_cpu_a53
	cmp	x2, #0xd03
	csel	x0, x3, x0, eq
	adr	x3, str_cpu_a57
	cmp	x2, #0xd07
	csel	x0, x3, x0, eq
	adr	x3, str_cpu_a72
	cmp	x2, #0xd08
	csel	x0, x3, x0, eq
1:	ret
	.size	cpu_name, . - cpu_name

// report_dtb(x0 = what the loader passed in x0): the boot protocol promises
// an 8-byte-aligned flattened device tree there; check its header.
	.type	report_dtb, %function
report_dtb:
	stp	x29, x30, [sp, #-32]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	mov	x19, x0
	cbz	x19, 2f
	tst	x19, #7
	b.ne	2f
	// FDT header fields are big-endian.
	ldr	w20, [x19]
	rev	w20, w20
	ldr	w3, [x19, #4]
	rev	w3, w3
	mov32	w4, FDT_MAGIC
	cmp	w20, w4
	b.ne	1f
	mov	x1, x19
	mov	x2, x20
	adr	x0, msg_dtb_ok
	bl	printf
	// The exit-status device is used only where the device tree lists it
	// (under QEMU nothing is at its address).
	ldr	w1, [x19, #4]
	rev	w1, w1
	mov	x0, x19
	adr	x2, str_exit_compatible
	bl	contains_string
	adr	x1, exit_device
	str	x0, [x1]
	b	3f
1:	mov	x1, x19
	mov	x2, x20
	adr	x0, msg_dtb_bad
	bl	printf
	adr	x0, msg_fail_dtb_magic
	bl	fail
	b	3f
2:	mov	x1, x19
	adr	x0, msg_fail_dtb_address
	bl	fail
3:	ldp	x19, x20, [sp, #16]
	ldp	x29, x30, [sp], #32
	ret
	.size	report_dtb, . - report_dtb

// contains_string(x0 = bytes, x1 = length, x2 = NUL-terminated string):
// 1 if the bytes hold the string with its NUL, else 0. Searches at most
// FDT_SEARCH_MAX bytes, whatever the length says.
	.type	contains_string, %function
contains_string:
	mov	x3, #FDT_SEARCH_MAX
	cmp	x1, x3
	csel	x1, x1, x3, ls
	add	x4, x0, x1
1:	cmp	x0, x4
	b.hs	4f
	mov	x5, x0
	mov	x6, x2
2:	cmp	x5, x4
	b.hs	4f
	ldrb	w7, [x5], #1
	ldrb	w8, [x6], #1
	cmp	w7, w8
	b.ne	3f
	cbnz	w8, 2b
	mov	x0, #1
	ret
3:	add	x0, x0, #1
	b	1b
4:	mov	x0, #0
	ret
	.size	contains_string, . - contains_string

// gic_init(): distributor and CPU interface on, INTID 27 enabled at a
// priority the mask lets through. Reads back what it wrote.
	.type	gic_init, %function
gic_init:
	stp	x29, x30, [sp, #-48]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	mov	x19, #GICD_BASE
	mov	x20, #GICC_BASE
	// Off while it is configured, so nothing half-set-up is signalled.
	str	wzr, [x19, #GICD_CTLR]
	str	wzr, [x20, #GICC_CTLR]

	ldr	w21, [x19, #GICD_TYPER]
	and	w2, w21, #0x1f			// ITLinesNumber: 32 * (N + 1) INTIDs
	add	w2, w2, #1
	lsl	w2, w2, #5
	ubfx	w3, w21, #5, #3			// CPUNumber: CPUs - 1
	add	w3, w3, #1
	ldr	w4, [x19, #GICD_IIDR]
	mov	x1, x19
	adr	x0, msg_gicd
	bl	printf

	// Byte access: IPRIORITYR is byte-addressable by architecture.
	mov	w0, #TIMER_PRIORITY
	strb	w0, [x19, #(GICD_IPRIORITYR + TIMER_INTID)]
	ldr	w1, [x19, #(GICD_IPRIORITYR + (TIMER_INTID & ~3))]
	ubfx	w1, w1, #((TIMER_INTID & 3) * 8), #8
	cmp	w1, #TIMER_PRIORITY
	b.eq	1f
	adr	x0, msg_fail_priority
	bl	fail
1:	mov	w0, #(1 << TIMER_INTID)
	str	w0, [x19, #GICD_ICPENDR0]
	str	w0, [x19, #GICD_ICACTIVER0]
	str	w0, [x19, #GICD_ISENABLER0]
	ldr	w1, [x19, #GICD_ISENABLER0]
	tbnz	w1, #TIMER_INTID, 2f
	adr	x0, msg_fail_enable
	bl	fail
2:	mov	w0, #1
	str	w0, [x19, #GICD_CTLR]

	mov	w0, #PRIORITY_MASK
	str	w0, [x20, #GICC_PMR]
	mov	w0, #1
	str	w0, [x20, #GICC_CTLR]
	ldr	w2, [x20, #GICC_IIDR]
	ldr	w3, [x20, #GICC_PMR]
	mov	x1, x20
	adr	x0, msg_gicc
	bl	printf
	mov	x1, #TIMER_INTID
	mov	x2, #TIMER_PPI
	mov	x3, #TIMER_PRIORITY
	adr	x0, msg_gic_timer
	bl	printf

	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x29, x30, [sp], #48
	ret
	.size	gic_init, . - gic_init

// timer_ticks(): arms the virtual timer and sleeps in WFI while handle_irq
// takes TICKS interrupts, then checks that the GIC went back to idle.
	.type	timer_ticks, %function
timer_ticks:
	stp	x29, x30, [sp, #-48]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	adr	x0, frequency
	ldr	x1, [x0]
	mov	x2, #TICK_HZ
	udiv	x19, x1, x2
	adr	x0, interval
	str	x19, [x0]
	mov	x1, #(1000 / TICK_HZ)
	mov	x2, #TICKS
	adr	x0, msg_timer
	bl	printf

	msr	cntv_ctl_el0, xzr
	isb
	mrs	x20, cntvct_el0
	// The first deadline is relative (TVAL); later ones add to CVAL, so the
	// ticks keep their period however late each handler runs.
	msr	cntv_tval_el0, x19
	isb
	mrs	x21, cntv_cval_el0
	sub	x0, x21, x20
	cmp	x0, x19
	b.lo	1f
	cmp	x0, x19, lsl #1
	b.lo	2f
1:	mov	x1, x21
	mov	x2, x19
	mov	x3, x20
	adr	x0, msg_fail_cval
	bl	fail
	add	x21, x20, x19
	msr	cntv_cval_el0, x21
2:	adr	x0, next_deadline
	str	x21, [x0]
	mov	x0, #CNTV_CTL_ENABLE
	msr	cntv_ctl_el0, x0
	isb

	// A VMM that loses the interrupt must not leave the demo waiting forever.
	mov	x0, #(TICKS + TICK_SLACK)
	mul	x22, x19, x0
	msr	daifclr, #2
3:	adr	x0, ticks
	ldr	x1, [x0]
	cmp	x1, #TICKS
	b.hs	4f
	isb
	mrs	x2, cntvct_el0
	sub	x2, x2, x20
	cmp	x2, x22
	b.hi	5f
	wfi
	b	3b

5:	msr	daifset, #2
	mov	x0, x2
	bl	ticks_to_us
	mov	x3, #1000
	udiv	x3, x0, x3
	adr	x0, ticks
	ldr	x1, [x0]
	mov	x2, #TICKS
	adr	x0, msg_fail_stalled
	bl	fail
	b	finish

4:	msr	daifset, #2
	// The last handler disabled the timer and signalled EOI: nothing may
	// be active or pending any more.
	mov	x19, #GICC_BASE
	ldr	w1, [x19, #GICC_RPR]
	cmp	w1, #IDLE_PRIORITY
	b.eq	6f
	adr	x0, msg_fail_rpr_idle
	bl	fail
6:	ldr	w1, [x19, #GICC_HPPIR]
	and	w1, w1, #INTID_MASK
	cmp	w1, #INTID_SPURIOUS
	b.eq	7f
	adr	x0, msg_fail_hppir
	bl	fail
7:	mov	x1, #TICKS
	adr	x0, msg_ticks_done
	bl	printf
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x29, x30, [sp], #48
	ret
	.size	timer_ticks, . - timer_ticks

// handle_irq(): called by irq_entry (start.s). Acknowledge, check that the
// GIC and the timer agree it is the timer's interrupt, report the tick,
// re-arm (or stop after the last), then end the interrupt.
	.global	handle_irq
	.type	handle_irq, %function
handle_irq:
	stp	x29, x30, [sp, #-80]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	mov	x19, #GICC_BASE
	ldr	w20, [x19, #GICC_IAR]
	isb
	mrs	x22, cntvct_el0
	and	w21, w20, #INTID_MASK
	cmp	w21, #INTID_SPURIOUS
	b.ne	1f
	// The CPU saw an IRQ the GIC has no interrupt for. Going on could
	// mean an interrupt storm, so stop here.
	adr	x0, msg_fail_spurious
	bl	fail
	b	finish
1:	cmp	w21, #TIMER_INTID
	b.eq	2f
	str	w20, [x19, #GICC_EOIR]
	mov	x1, x21
	adr	x0, msg_fail_other_irq
	bl	fail
	b	finish

2:	ldr	w1, [x19, #GICC_RPR]
	cmp	w1, #TIMER_PRIORITY
	b.eq	3f
	adr	x0, msg_fail_rpr
	bl	fail
3:	mov	x0, #GICD_BASE
	ldr	w1, [x0, #GICD_ISACTIVER0]
	tbnz	w1, #TIMER_INTID, 4f
	adr	x0, msg_fail_active
	bl	fail
4:	mrs	x1, cntv_ctl_el0
	tbnz	x1, #CNTV_CTL_ISTATUS_BIT, 5f
	adr	x0, msg_fail_istatus
	bl	fail
5:	adr	x0, next_deadline
	ldr	x23, [x0]
	mov	x25, #0
	subs	x0, x22, x23
	b.hs	6f
	neg	x2, x0
	mov	x1, x22
	adr	x0, msg_fail_early
	bl	fail
	b	7f
6:	bl	ticks_to_us
	mov	x25, x0
7:	adr	x0, ticks
	ldr	x24, [x0]
	add	x24, x24, #1
	str	x24, [x0]
	mov	x0, x22
	bl	ticks_to_us
	mov	x26, x0

	mov	x0, #1000
	udiv	x5, x26, x0
	msub	x6, x5, x0, x26
	mov	x1, x24
	mov	x2, #TICKS
	mov	x3, x21
	mov	x4, x22
	mov	x7, x25
	adr	x0, msg_tick
	bl	printf

	cmp	x24, #TICKS
	b.hs	8f
	adr	x0, interval
	ldr	x0, [x0]
	add	x23, x23, x0
	adr	x0, next_deadline
	str	x23, [x0]
	msr	cntv_cval_el0, x23
	b	9f
8:	msr	cntv_ctl_el0, xzr
	// The new deadline (or the disabled timer) must lower the timer's line
	// before EOI, or the level-sensitive interrupt would pend again at once.
9:	isb
	str	w20, [x19, #GICC_EOIR]

	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x29, x30, [sp], #80
	ret
	.size	handle_irq, . - handle_irq

// ticks_to_us(x0 = counter ticks) -> x0 = microseconds. Splits off whole
// seconds first so the multiplication cannot overflow. Clobbers x0-x4.
	.type	ticks_to_us, %function
ticks_to_us:
	adr	x1, frequency
	ldr	x1, [x1]
	udiv	x2, x0, x1
	msub	x3, x2, x1, x0
	movz	x4, #0x4240
	movk	x4, #0xf, lsl #16		// 1000000
	mul	x2, x2, x4
	mul	x3, x3, x4
	udiv	x3, x3, x1
	add	x0, x2, x3
	ret
	.size	ticks_to_us, . - ticks_to_us

// psci_questions(): the calls a kernel makes to learn its firmware, over
// HVC (what VMKit's device tree names by default), with the answers checked
// against the PSCI specification.
	.type	psci_questions, %function
psci_questions:
	stp	x29, x30, [sp, #-48]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	adr	x0, msg_psci
	bl	printf

	mov32	w0, PSCI_VERSION
	bl	psci_call
	mov	w19, w0
	// Bit 31 is zero in every version number: set, it is an error code.
	tbnz	w19, #31, 1f
	ubfx	x1, x19, #16, #15
	and	x2, x19, #0xffff
	mov	x3, x19
	adr	x0, msg_psci_version
	bl	printf
	cmp	w19, #2				// 0.2, the first version Linux accepts
	b.hs	2f
	b	0f
1:	sxtw	x0, w19
	adr	x1, psci_errors
	mov	x2, #0
	adr	x3, str_unknown
	bl	name_or_result
	mov	x2, x0
	sxtw	x1, w19
	adr	x0, msg_psci_version_error
	bl	printf
0:	mov	x1, x19
	adr	x0, msg_fail_version
	bl	fail
	b	4f
	// PSCI_FEATURES exists from PSCI 1.0 on.
2:	mov	w0, #0x10000
	cmp	w19, w0
	b.lo	3f
	mov32	w0, PSCI_CPU_ON_64
	adr	x1, str_feature_cpu_on
	mov	x2, #1
	bl	report_feature
	mov32	w0, PSCI_CPU_SUSPEND_64
	adr	x1, str_feature_cpu_suspend
	mov	x2, #0
	bl	report_feature
	mov32	w0, PSCI_SYSTEM_OFF
	adr	x1, str_feature_system_off
	mov	x2, #1
	bl	report_feature
	b	4f
3:	adr	x0, msg_no_features
	bl	printf

	// AFFINITY_INFO takes MPIDR's affinity fields where MPIDR has them,
	// without the flag bits (U, MT, RES1) in between; the calling CPU must
	// be ON.
4:	mrs	x20, mpidr_el1
	and	x21, x20, #MPIDR_AFFINITY_MASK_LOW
	ubfx	x0, x20, #MPIDR_AFF3_SHIFT, #8
	orr	x21, x21, x0, lsl #MPIDR_AFF3_SHIFT
	mov32	w0, PSCI_AFFINITY_INFO_64
	mov	x1, x21
	mov	x2, #0
	bl	psci_call
	sxtw	x22, w0
	mov	x0, x22
	adr	x1, affinity_states
	mov	x2, #3
	adr	x3, str_unknown
	bl	name_or_result
	mov	x3, x0
	mov	x1, x21
	mov	x2, x22
	adr	x0, msg_affinity
	bl	printf
	cbz	x22, 5f
	mov	x1, x22
	adr	x0, msg_fail_affinity
	bl	fail

5:	mov32	w0, PSCI_MIGRATE_INFO_TYPE
	bl	psci_call
	sxtw	x22, w0
	mov	x0, x22
	adr	x1, migrate_types
	mov	x2, #3
	adr	x3, str_unknown
	bl	name_or_result
	mov	x2, x0
	mov	x1, x22
	adr	x0, msg_migrate
	bl	printf
	cmp	x22, #2
	b.ls	6f
	cmn	x22, #1
	b.eq	6f
	mov	x1, x22
	adr	x0, msg_fail_migrate
	bl	fail

6:	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x29, x30, [sp], #48
	ret
	.size	psci_questions, . - psci_questions

// report_feature(w0 = function id, x1 = padded label, x2 = must be
// implemented): asks PSCI_FEATURES about one function and checks the answer
// is one PSCI_FEATURES may give.
	.type	report_feature, %function
report_feature:
	stp	x29, x30, [sp, #-48]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	mov	w19, w0
	mov	x20, x1
	mov	x21, x2
	mov32	w0, PSCI_FEATURES
	mov	w1, w19
	bl	psci_call
	sxtw	x22, w0
	mov	x0, x22
	adr	x1, feature_answers
	mov	x2, #1
	adr	x3, str_feature_flags
	bl	name_or_result
	mov	x3, x0
	mov	x1, x20
	mov	x2, x22
	adr	x0, msg_feature
	bl	printf
	tbz	x22, #63, 2f
	cmn	x22, #1
	b.eq	1f
	mov	x1, x20
	mov	x2, x22
	adr	x0, msg_fail_feature
	bl	fail
	b	2f
1:	cbz	x21, 2f
	mov	x1, x20
	adr	x0, msg_fail_mandatory
	bl	fail
2:	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x29, x30, [sp], #48
	ret
	.size	report_feature, . - report_feature

// name_or_result(x0 = answer, x1 = table of names for answers 0.., x2 =
// entries, x3 = name of non-negative answers past the table) -> x0 = the
// answer's name; negative answers are named as PSCI return codes.
	.type	name_or_result, %function
name_or_result:
	cmp	x0, x2
	b.lo	1f
	tbz	x0, #63, 2f
	neg	x0, x0
	adr	x1, psci_errors
	mov	x2, #(-PSCI_LOWEST_ERROR + 1)
	adr	x3, str_unknown
	cmp	x0, x2
	b.hs	2f
1:	ldrsw	x3, [x1, x0, lsl #2]
	add	x3, x1, x3
2:	mov	x0, x3
	ret
	.size	name_or_result, . - name_or_result

// psci_call(w0 = function id, x1-x3 = arguments) -> x0. SMCCC lets the
// firmware clobber x0-x17, the same registers a call may, so a plain call
// preserves everything the caller relies on.
	.global	psci_call
	.type	psci_call, %function
psci_call:
	hvc	#0
	ret
	.size	psci_call, . - psci_call

// count_failure(): one more check went wrong. Clobbers x0, x1.
	.global	count_failure
	.type	count_failure, %function
count_failure:
	adr	x0, failures
	ldr	x1, [x0]
	add	x1, x1, #1
	str	x1, [x0]
	ret
	.size	count_failure, . - count_failure

// fail(x0 = format, x1-x7 = arguments): prints "  !! " and the message,
// and counts the failure.
	.type	fail, %function
fail:
	stp	x29, x30, [sp, #-80]!
	mov	x29, sp
	stp	x0, x1, [sp, #16]
	stp	x2, x3, [sp, #32]
	stp	x4, x5, [sp, #48]
	stp	x6, x7, [sp, #64]
	adr	x0, str_fail_prefix
	bl	puts
	ldp	x0, x1, [sp, #16]
	ldp	x2, x3, [sp, #32]
	ldp	x4, x5, [sp, #48]
	ldp	x6, x7, [sp, #64]
	bl	printf
	bl	count_failure
	ldp	x29, x30, [sp], #80
	ret
	.size	fail, . - fail

// finish(): the verdict, then PSCI SYSTEM_OFF. Reached from anywhere (the
// exception handlers too), so it starts from a clean stack with everything
// masked.
	.global	finish
	.type	finish, %function
finish:
	msr	daifset, #0xf
	msr	cntv_ctl_el0, xzr
	adr	x0, __stack_top
	mov	sp, x0
	adr	x0, failures
	ldr	x1, [x0]
	adr	x0, msg_passed
	cbz	x1, 1f
	adr	x0, msg_failed
1:	bl	printf
	// The verdict as the run's exit status: 0, or the number of failed
	// checks (at most 255).
	adr	x0, exit_device
	ldr	x0, [x0]
	cbz	x0, 3f
	adr	x0, failures
	ldr	x1, [x0]
	mov32	w2, EXIT_PASS
	cbz	x1, 2f
	mov	x3, #EXIT_STATUS_MAX
	cmp	x1, x3
	csel	x1, x1, x3, ls
	mov32	w2, EXIT_FAIL
	orr	w2, w2, w1, lsl #16
2:	mov32	w0, EXIT_BASE
	str	w2, [x0]
3:	mov32	w0, PSCI_SYSTEM_OFF
	bl	psci_call
	sxtw	x1, w0
	adr	x0, msg_off_returned
	bl	printf
	// Nothing is left to do; WFI with everything masked lets the VMM see
	// an idle guest instead of a spinning one.
4:	wfi
	b	4b
	.size	finish, . - finish

	.section .rodata
msg_banner:
	.asciz	"\nVMKit demo guest: bare-metal AArch64, no MMU, console on the PL011 at 0x09000000\n"
msg_el:
	.asciz	"  exception level  EL%u, entered with x0 = %x\n"
msg_bad_el:
	.asciz	"the demo is built for EL1, but runs at EL%u\n"
msg_cpu:
	.asciz	"  CPU              %s (MIDR_EL1 %08x), MPIDR_EL1 %x = CPU %u\n"
msg_counter:
	.asciz	"  counter          CNTFRQ_EL0 = %u Hz, CNTVCT_EL0 = %u\n"
msg_no_frequency:
	.asciz	"CNTFRQ_EL0 is 0: the firmware (the VMM) must set the counter frequency\n"
msg_dtb_ok:
	.asciz	"  device tree      at %x: magic %x (valid), %u bytes\n"
str_exit_compatible:
	.asciz	"vmkit,exit-status"
msg_broken:
	.asciz	"this demo was built to fail (BROKEN=1)\n"
msg_dtb_bad:
	.asciz	"  device tree      at %x: magic %x, not 0xd00dfeed\n"
msg_fail_dtb_magic:
	.asciz	"x0 does not point at a flattened device tree\n"
msg_fail_dtb_address:
	.asciz	"x0 = %x is not the 8-byte-aligned address of a device tree\n"
msg_vectors:
	.asciz	"  vectors          VBAR_EL1 = %x\n"
msg_gicd:
	.asciz	"GICv2\n  distributor      at %08x: %u interrupt lines, %u CPU interface(s), GICD_IIDR %08x\n"
msg_gicc:
	.asciz	"  CPU interface    at %08x: GICC_IIDR %08x, enabled, priority mask %x\n"
msg_gic_timer:
	.asciz	"  virtual timer    INTID %u (PPI %u), priority %x, enabled\n"
msg_fail_priority:
	.asciz	"GICD_IPRIORITYR reads %x for INTID 27 after 0xa0 was written\n"
msg_fail_enable:
	.asciz	"GICD_ISENABLER0 reads %x: INTID 27 did not become enabled\n"
msg_timer:
	.asciz	"Virtual timer: a tick every %u ms, %u ticks, sleeping in WFI in between\n"
msg_fail_cval:
	.asciz	"CNTV_CVAL_EL0 reads %u after CNTV_TVAL_EL0 = %u was written at counter %u\n"
msg_fail_stalled:
	.asciz	"only %u of %u timer interrupts arrived in %u ms; giving up\n"
msg_fail_rpr_idle:
	.asciz	"GICC_RPR is %x after the last EOI; expected 0xff (idle)\n"
msg_fail_hppir:
	.asciz	"GICC_HPPIR shows INTID %u pending after the timer was disabled\n"
msg_ticks_done:
	.asciz	"  %u interrupts taken: GICC_IAR -> handler -> re-arm CNTV_CVAL_EL0 -> GICC_EOIR\n"
msg_tick:
	.asciz	"  tick %u/%u  INTID %u  CNTVCT %u  t = %u.%03u ms  (%u us after the deadline)\n"
msg_fail_spurious:
	.asciz	"IRQ taken, but GICC_IAR returned 1023 (spurious): nothing was pending\n"
msg_fail_other_irq:
	.asciz	"IRQ for INTID %u, which the demo never enabled\n"
msg_fail_rpr:
	.asciz	"GICC_RPR is %x while INTID 27 is handled; expected its priority 0xa0\n"
msg_fail_active:
	.asciz	"GICD_ISACTIVER0 reads %x: INTID 27 is not active in its own handler\n"
msg_fail_istatus:
	.asciz	"CNTV_CTL_EL0 is %x in the timer's interrupt: ISTATUS is clear\n"
msg_fail_early:
	.asciz	"the timer interrupt came at counter %u, %u ticks before its deadline\n"
msg_psci:
	.asciz	"PSCI over HVC\n"
msg_psci_version:
	.asciz	"  PSCI_VERSION                -> %u.%u (%x)\n"
msg_psci_version_error:
	.asciz	"  PSCI_VERSION                -> %d (%s)\n"
msg_fail_version:
	.asciz	"PSCI_VERSION answered %x; PSCI 0.2 or later is needed\n"
msg_no_features:
	.asciz	"  PSCI_FEATURES               (needs PSCI 1.0; not asked)\n"
msg_feature:
	.asciz	"  %s-> %d (%s)\n"
msg_fail_feature:
	.asciz	"%sanswered %d, which PSCI_FEATURES never returns\n"
msg_fail_mandatory:
	.asciz	"%sis NOT_SUPPORTED, but every PSCI firmware must implement it\n"
msg_affinity:
	.asciz	"  AFFINITY_INFO(%x, 0)       -> %d (%s)\n"
msg_fail_affinity:
	.asciz	"AFFINITY_INFO answered %d for the CPU that is asking; expected 0 (ON)\n"
msg_migrate:
	.asciz	"  MIGRATE_INFO_TYPE           -> %d (%s)\n"
msg_fail_migrate:
	.asciz	"MIGRATE_INFO_TYPE answered %d; only 0, 1, 2 or NOT_SUPPORTED are defined\n"
msg_passed:
	.asciz	"demo: all checks passed; powering off with PSCI SYSTEM_OFF\n"
msg_failed:
	.asciz	"demo: %u check(s) FAILED (marked !! above); powering off with PSCI SYSTEM_OFF\n"
msg_off_returned:
	.asciz	"demo: PSCI SYSTEM_OFF returned %d instead of powering off; stopping here\n"
str_fail_prefix:
	.asciz	"  !! "
str_cpu_unknown:
	.asciz	"an unknown CPU"
str_cpu_arm:
	.asciz	"an Arm CPU"
str_cpu_a53:
	.asciz	"Arm Cortex-A53"
str_cpu_a57:
	.asciz	"Arm Cortex-A57"
str_cpu_a72:
	.asciz	"Arm Cortex-A72"
str_feature_cpu_on:
	.asciz	"PSCI_FEATURES(CPU_ON)       "
str_feature_cpu_suspend:
	.asciz	"PSCI_FEATURES(CPU_SUSPEND)  "
str_feature_system_off:
	.asciz	"PSCI_FEATURES(SYSTEM_OFF)   "
str_unknown:
	.asciz	"not a PSCI answer"
str_feature_flags:
	.asciz	"SUCCESS, with feature flags"

// Name tables hold offsets from the table, not addresses, so the code stays
// position independent.
	.balign	4
psci_errors:					// indexed by -return code
	.word	str_success - psci_errors
	.word	str_not_supported - psci_errors
	.word	str_invalid_parameters - psci_errors
	.word	str_denied - psci_errors
	.word	str_already_on - psci_errors
	.word	str_on_pending - psci_errors
	.word	str_internal_failure - psci_errors
	.word	str_not_present - psci_errors
	.word	str_disabled - psci_errors
	.word	str_invalid_address - psci_errors
feature_answers:
	.word	str_success - feature_answers
affinity_states:
	.word	str_on - affinity_states
	.word	str_off - affinity_states
	.word	str_on_pending - affinity_states
migrate_types:
	.word	str_migrate_0 - migrate_types
	.word	str_migrate_1 - migrate_types
	.word	str_migrate_2 - migrate_types

str_success:		.asciz	"SUCCESS"
str_not_supported:	.asciz	"NOT_SUPPORTED"
str_invalid_parameters:	.asciz	"INVALID_PARAMETERS"
str_denied:		.asciz	"DENIED"
str_already_on:		.asciz	"ALREADY_ON"
str_on_pending:		.asciz	"ON_PENDING"
str_internal_failure:	.asciz	"INTERNAL_FAILURE"
str_not_present:	.asciz	"NOT_PRESENT"
str_disabled:		.asciz	"DISABLED"
str_invalid_address:	.asciz	"INVALID_ADDRESS"
str_on:			.asciz	"ON"
str_off:		.asciz	"OFF"
str_migrate_0:		.asciz	"a trusted OS that can migrate"
str_migrate_1:		.asciz	"a trusted OS that cannot migrate"
str_migrate_2:		.asciz	"no trusted OS to migrate"

	.section .note.GNU-stack, "", %progbits
