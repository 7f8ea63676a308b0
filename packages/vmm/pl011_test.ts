import assert from "node:assert/strict";
import { PL011, Pl011, PL011_INT } from "./pl011.ts";

// Most tests look at the FIFO itself: input flows at once. The gate has tests of its own.
function uart(holdInput = false) {
  const out: number[] = [];
  const levels: boolean[] = [];
  const dev = new Pl011({
    onTransmit: (b) => out.push(b),
    interrupt: { set: (l) => levels.push(l), pulse() {} },
    holdInput,
  });
  return { dev, out, levels };
}

const FR_RXFE = 1 << 4;
const FR_RXFF = 1 << 6;
const FR_TXFE = 1 << 7;
const LCR_H_FEN = 1 << 4;

Deno.test("pl011: the ID registers read what Linux's AMBA bus matches", () => {
  const { dev } = uart();
  const ids = [0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map((o) => dev.read(o, 4));
  assert.deepEqual(ids, [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
  const periphId = ids[0] | (ids[1] << 8) | (ids[2] << 16) | (ids[3] << 24);
  assert.equal(periphId & 0x000fffff, 0x00041011);
});

Deno.test("pl011: reset state and transmit", () => {
  const { dev, out } = uart();
  assert.equal(dev.read(PL011.FR, 4), FR_TXFE | FR_RXFE);
  assert.equal(dev.read(PL011.CR, 4), 0x300);
  assert.equal(dev.read(PL011.IFLS, 4), 0x12);
  for (const c of "hi\n") dev.write(PL011.DR, 4, c.charCodeAt(0));
  dev.write(PL011.DR, 2, 0x1241); // only the low byte is data
  assert.equal(String.fromCharCode(...out), "hi\nA");
  assert.equal(dev.stats.transmitted, 4);
});

Deno.test("pl011: receive through the FIFO with RX and receive-timeout interrupts", () => {
  const { dev, levels } = uart();
  dev.write(PL011.LCR_H, 4, LCR_H_FEN);
  dev.write(PL011.IMSC, 4, PL011_INT.RX | PL011_INT.RT);
  assert.deepEqual(levels, []);
  dev.receive(new TextEncoder().encode("abc"));
  // Below the 1/2 trigger level (8 of 16): only the timeout condition holds.
  assert.equal(dev.read(PL011.RIS, 4) & (PL011_INT.RX | PL011_INT.RT), PL011_INT.RT);
  assert.deepEqual(levels, [true]);
  assert.equal(dev.read(PL011.FR, 4) & FR_RXFE, 0);
  const got = [dev.read(PL011.DR, 4), dev.read(PL011.DR, 4), dev.read(PL011.DR, 4)];
  assert.equal(String.fromCharCode(...got), "abc");
  assert.equal(dev.read(PL011.FR, 4) & FR_RXFE, FR_RXFE);
  assert.deepEqual(levels, [true, false]);
  assert.equal(dev.read(PL011.DR, 4), 0, "reading an empty FIFO returns 0");
});

Deno.test("pl011: host input beyond the FIFO waits in a queue, nothing is dropped", () => {
  const { dev } = uart();
  dev.write(PL011.LCR_H, 4, LCR_H_FEN);
  const text = "x".repeat(40) + "END";
  dev.receive(new TextEncoder().encode(text));
  assert.equal(dev.read(PL011.FR, 4) & FR_RXFF, FR_RXFF, "the 16-entry FIFO is full");
  assert.equal(dev.read(PL011.RIS, 4) & PL011_INT.RX, PL011_INT.RX, "at or above the trigger");
  let got = "";
  while ((dev.read(PL011.FR, 4) & FR_RXFE) === 0) got += String.fromCharCode(dev.read(PL011.DR, 4));
  assert.equal(got, text);
  assert.equal(dev.stats.received, text.length);
  assert.equal(dev.stats.dropped, 0);
});

Deno.test("pl011: without FIFOs the holding register is one byte deep", () => {
  const { dev } = uart();
  dev.receive(new TextEncoder().encode("ab"));
  assert.equal(dev.read(PL011.FR, 4) & (FR_RXFF | FR_RXFE), FR_RXFF);
  assert.equal(dev.read(PL011.DR, 4), 0x61);
  assert.equal(dev.read(PL011.DR, 4), 0x62);
  // Enabling the FIFOs flushes nothing the host sent.
  dev.receive(new TextEncoder().encode("cd"));
  dev.write(PL011.LCR_H, 4, LCR_H_FEN);
  assert.equal(dev.read(PL011.DR, 4), 0x63);
  assert.equal(dev.read(PL011.DR, 4), 0x64);
});

Deno.test("pl011: TX interrupt condition always holds (instant transmit); masks and MIS", () => {
  const { dev, levels } = uart();
  assert.equal(dev.read(PL011.RIS, 4) & PL011_INT.TX, PL011_INT.TX);
  assert.equal(dev.read(PL011.MIS, 4), 0);
  dev.write(PL011.IMSC, 4, PL011_INT.TX);
  assert.equal(dev.read(PL011.MIS, 4), PL011_INT.TX);
  assert.equal(dev.interruptLevel, true);
  dev.write(PL011.IMSC, 4, 0);
  assert.equal(dev.interruptLevel, false);
  assert.deepEqual(levels, [true, false]);
});

Deno.test("pl011: 16-bit accesses (Linux's default) and byte lanes", () => {
  const { dev } = uart();
  dev.write(PL011.IBRD, 2, 0x1234);
  dev.write(PL011.FBRD, 2, 0x3f);
  assert.equal(dev.read(PL011.IBRD, 2), 0x1234);
  assert.equal(dev.read(PL011.IBRD + 1, 1), 0x12);
  assert.equal(dev.read(PL011.FBRD, 4), 0x3f);
});

Deno.test("pl011: bad accesses read as zero, are ignored and counted, never thrown", () => {
  const { dev } = uart();
  const before = dev.read(PL011.CR, 4);
  assert.equal(dev.read(0x100, 4), 0); // reserved
  assert.equal(dev.read(PL011.ICR, 4), 0); // write-only
  assert.equal(dev.read(PL011.DR + 1, 2), 0); // misaligned
  assert.equal(dev.read(0x2000, 4), 0); // outside the window
  dev.write(PL011.CR + 2, 2, 0xffff); // inside a register
  dev.write(0xfe0, 4, 0xff); // read-only ID register
  dev.write(PL011.CR, 3, 1); // bad size
  assert.equal(dev.read(PL011.CR, 4), before);
  assert.equal(dev.stats.badAccesses, 7);
});

Deno.test("pl011: reset restores registers but keeps undelivered host input", () => {
  const { dev } = uart();
  dev.write(PL011.IMSC, 4, 0x7ff);
  dev.write(PL011.LCR_H, 4, LCR_H_FEN);
  dev.receive(new TextEncoder().encode("keep"));
  dev.reset();
  assert.equal(dev.read(PL011.IMSC, 4), 0);
  assert.equal(dev.read(PL011.LCR_H, 4), 0);
  assert.equal(dev.interruptLevel, false);
  let got = "";
  while ((dev.read(PL011.FR, 4) & FR_RXFE) === 0) got += String.fromCharCode(dev.read(PL011.DR, 4));
  assert.equal(got, "keep");
});

Deno.test("pl011: early input waits until the guest unmasks a receive interrupt (Linux drains the FIFO before that)", () => {
  const { dev } = uart(true);
  dev.write(PL011.LCR_H, 4, LCR_H_FEN);
  dev.write(PL011.CR, 4, 0x301);
  dev.receive(new TextEncoder().encode("echo hi\npoweroff -f\n"));
  assert.equal(dev.inputOpen, false);
  // What Linux's pl011 driver does when a program opens the tty: drain, then unmask.
  for (let i = 0; i < 32; i++) {
    if (dev.read(PL011.FR, 4) & FR_RXFE) break;
    dev.read(PL011.DR, 4);
  }
  assert.equal(dev.stats.received, 0, "the drain found nothing to throw away");
  dev.write(PL011.IMSC, 4, PL011_INT.RX | PL011_INT.RT);
  assert.equal(dev.inputOpen, true);
  let got = "";
  while ((dev.read(PL011.FR, 4) & FR_RXFE) === 0) got += String.fromCharCode(dev.read(PL011.DR, 4));
  assert.equal(got, "echo hi\npoweroff -f\n");
  // A reboot holds input again until the next guest is ready.
  dev.reset();
  assert.equal(dev.inputOpen, false);
});

Deno.test("pl011: bytes a driver did not read before it closed its port wait for the next open", () => {
  const { dev } = uart(true);
  dev.write(PL011.LCR_H, 4, LCR_H_FEN);
  dev.write(PL011.CR, 4, 0x301);
  const drainThenUnmask = () => {
    let drained = 0;
    for (let i = 0; i < 32; i++) {
      if (dev.read(PL011.FR, 4) & FR_RXFE) break;
      dev.read(PL011.DR, 4);
      drained++;
    }
    dev.write(PL011.IMSC, 4, PL011_INT.RX | PL011_INT.RT);
    return drained;
  };
  // Linux opens the console once before /init and closes it again, then /init opens it.
  assert.equal(drainThenUnmask(), 0);
  dev.receive(new TextEncoder().encode("nproc\ncat /proc/interrupts\npoweroff -f\n"));
  dev.write(PL011.IMSC, 4, 0);
  assert.equal(dev.inputOpen, false);
  assert.equal(drainThenUnmask(), 0, "the second drain finds the FIFO empty");
  let got = "";
  while ((dev.read(PL011.FR, 4) & FR_RXFE) === 0) got += String.fromCharCode(dev.read(PL011.DR, 4));
  assert.equal(got, "nproc\ncat /proc/interrupts\npoweroff -f\n");
});

Deno.test("pl011: a guest polling the flag register gets input without enabling interrupts", () => {
  const { dev } = uart(true);
  dev.receive(new TextEncoder().encode("x"));
  // A console driver printing reads FR once per character between writes: no poller.
  for (let i = 0; i < 100; i++) {
    dev.read(PL011.FR, 4);
    dev.write(PL011.DR, 4, 0x2e);
  }
  assert.equal(dev.inputOpen, false);
  let polls = 0;
  while ((dev.read(PL011.FR, 4) & FR_RXFE) !== 0) polls++;
  assert.ok(polls < 32, `opened after ${polls} polls`);
  assert.equal(dev.read(PL011.DR, 4), 0x78);
});
