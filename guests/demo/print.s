// Console output on the PL011: characters, strings, numbers and a small
// printf, so the rest of the demo can say what it sees in one call per line.
//
// Calling convention: AAPCS64 (arguments in x0-x7, x0-x18 may be clobbered,
// x19-x29 preserved). putc is stricter, see below.

	.include "platform.inc"

	.text

// putc(w0 = character). Clobbers only x9 and x10, so that the number
// printers can keep their digits in other scratch registers across calls.
// A newline goes out as CR LF: the vmkit console puts the terminal in raw
// mode, where a bare LF would not return to the first column.
	.global	putc
	.type	putc, %function
putc:
	mov	x9, #UART_BASE
	cmp	w0, #CH_NL
	b.ne	2f
1:	ldr	w10, [x9, #UART_FR]
	tbnz	w10, #UART_FR_TXFF_BIT, 1b
	mov	w10, #CH_CR
	str	w10, [x9, #UART_DR]
2:	ldr	w10, [x9, #UART_FR]
	tbnz	w10, #UART_FR_TXFF_BIT, 2b
	str	w0, [x9, #UART_DR]
	ret
	.size	putc, . - putc

// uart_init(): turns the UART on. QEMU and VMKit transmit without it, real
// PL011s do not.
	.global	uart_init
	.type	uart_init, %function
uart_init:
	mov	x9, #UART_BASE
	mov32	w10, UART_CR_ENABLE
	str	w10, [x9, #UART_CR]
	ret
	.size	uart_init, . - uart_init

// puts(x0 = NUL-terminated string)
	.global	puts
	.type	puts, %function
puts:
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	mov	x11, x0
1:	ldrb	w0, [x11], #1
	cbz	w0, 2f
	bl	putc
	b	1b
2:	ldp	x29, x30, [sp], #16
	ret
	.size	puts, . - puts

// put_udec(x0 = unsigned value, x1 = minimum digits, zero-padded)
	.global	put_udec
	.type	put_udec, %function
put_udec:
	stp	x29, x30, [sp, #-48]!
	mov	x29, sp
	// Digits are produced least significant first, so they fill the
	// 32-byte buffer above the frame record from its top down.
	add	x2, sp, #48
	mov	x3, #10
	mov	x4, #0
	cmp	x1, #20
	b.ls	1f
	mov	x1, #20				// a u64 has at most 20 digits
1:	udiv	x5, x0, x3
	msub	x6, x5, x3, x0
	add	w6, w6, #CH_0
	strb	w6, [x2, #-1]!
	add	x4, x4, #1
	mov	x0, x5
	cbnz	x0, 1b
	cmp	x4, x1
	b.lo	1b
	add	x7, sp, #48
2:	ldrb	w0, [x2], #1
	bl	putc
	cmp	x2, x7
	b.lo	2b
	ldp	x29, x30, [sp], #48
	ret
	.size	put_udec, . - put_udec

// put_sdec(x0 = signed value, x1 = minimum digits)
	.global	put_sdec
	.type	put_sdec, %function
put_sdec:
	tbz	x0, #63, put_udec
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	mov	x11, x0
	mov	w0, #CH_MINUS
	bl	putc
	neg	x0, x11
	bl	put_udec
	ldp	x29, x30, [sp], #16
	ret
	.size	put_sdec, . - put_sdec

// put_hex(x0 = value, x1 = minimum digits): "0x" and lower-case digits,
// without leading zeros beyond the minimum.
	.global	put_hex
	.type	put_hex, %function
put_hex:
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	mov	x2, x0
	// significant nibbles = (64 - leading zero bits + 3) / 4, at least 1
	clz	x3, x2
	mov	x4, #67
	sub	x3, x4, x3
	lsr	x3, x3, #2
	cmp	x3, x1
	csel	x3, x3, x1, hs
	cmp	x3, #16
	b.ls	1f
	mov	x3, #16
1:	cbnz	x3, 2f
	mov	x3, #1
2:	mov	w0, #CH_0
	bl	putc
	mov	w0, #CH_LOWER_X
	bl	putc
3:	sub	x3, x3, #1
	lsl	x5, x3, #2
	lsr	x6, x2, x5
	and	x6, x6, #0xf
	add	x7, x6, #CH_0
	add	x8, x6, #(CH_LOWER_A - 10)
	cmp	x6, #10
	csel	x0, x7, x8, lo
	bl	putc
	cbnz	x3, 3b
	ldp	x29, x30, [sp], #16
	ret
	.size	put_hex, . - put_hex

// printf(x0 = format, x1-x7 = arguments), a subset of C's: %u %d %x %s %c
// and %%, each optionally with a zero-padded width of one digit ("%03u").
// Every argument takes one 64-bit slot, in order.
	.global	printf
	.type	printf, %function
printf:
	stp	x29, x30, [sp, #-112]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	// The arguments go to memory so the loop can walk them with one pointer.
	stp	x1, x2, [sp, #48]
	stp	x3, x4, [sp, #64]
	stp	x5, x6, [sp, #80]
	str	x7, [sp, #96]
	mov	x19, x0
	add	x20, sp, #48
.Lnext:
	ldrb	w0, [x19], #1
	cbz	w0, .Ldone
	cmp	w0, #CH_PERCENT
	b.eq	.Lconversion
	bl	putc
	b	.Lnext
.Lconversion:
	mov	x21, #0
	ldrb	w22, [x19], #1
	cmp	w22, #CH_0
	b.ne	1f
	ldrb	w21, [x19], #1
	sub	w21, w21, #CH_0
	ldrb	w22, [x19], #1
1:	cbz	w22, .Ldone
	cmp	w22, #CH_LOWER_U
	b.eq	.Lunsigned
	cmp	w22, #CH_LOWER_D
	b.eq	.Lsigned
	cmp	w22, #CH_LOWER_X
	b.eq	.Lhex
	cmp	w22, #CH_LOWER_S
	b.eq	.Lstring
	cmp	w22, #CH_LOWER_C
	b.eq	.Lchar
	// "%%", and anything unknown printed as written so a typo shows.
	mov	w0, #CH_PERCENT
	bl	putc
	cmp	w22, #CH_PERCENT
	b.eq	.Lnext
	mov	w0, w22
	bl	putc
	b	.Lnext
.Lunsigned:
	ldr	x0, [x20], #8
	mov	x1, x21
	bl	put_udec
	b	.Lnext
.Lsigned:
	ldr	x0, [x20], #8
	mov	x1, x21
	bl	put_sdec
	b	.Lnext
.Lhex:
	ldr	x0, [x20], #8
	mov	x1, x21
	bl	put_hex
	b	.Lnext
.Lstring:
	ldr	x0, [x20], #8
	bl	puts
	b	.Lnext
.Lchar:
	ldr	x0, [x20], #8
	bl	putc
	b	.Lnext
.Ldone:
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x29, x30, [sp], #112
	ret
	.size	printf, . - printf

	.section .note.GNU-stack, "", %progbits
