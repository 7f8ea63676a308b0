import assert from "node:assert/strict";
import { type ConsoleIo, ConsoleSession, EscapeDecoder } from "./terminal.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("escape keys: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h shows help", () => {
  const d = new EscapeDecoder();
  let help = 0;
  const onHelp = () => help++;
  assert.deepEqual(d.feed(bytes("ls\n"), onHelp), { guest: bytes("ls\n"), quit: false });
  assert.deepEqual(text(d.feed(bytes("a\x01\x01b"), onHelp).guest), "a\x01b");
  assert.deepEqual(text(d.feed(bytes("\x01h"), onHelp).guest), "");
  assert.equal(help, 1);
  assert.deepEqual(
    text(d.feed(bytes("\x01z!"), onHelp).guest),
    "!",
    "unknown escapes are swallowed",
  );
  // The escape can be split across reads.
  assert.deepEqual(d.feed(bytes("ok\x01"), onHelp), { guest: bytes("ok"), quit: false });
  assert.deepEqual(d.feed(bytes("xignored"), onHelp), { guest: bytes(""), quit: true });
});

function fakeIo(chunks: string[], interactive: boolean) {
  const raw: boolean[] = [];
  const messages: string[] = [];
  const io: ConsoleIo = {
    interactive,
    setRaw: (r) => raw.push(r),
    read: (buffer) => {
      const next = chunks.shift();
      if (next === undefined) return Promise.resolve(null);
      const b = bytes(next);
      buffer.set(b);
      return Promise.resolve(b.length);
    },
    message: (m) => messages.push(m),
  };
  return { io, raw, messages };
}

Deno.test("console session: raw mode while attached, quit stops reading", async () => {
  const { io, raw } = fakeIo(["echo hi\r", "\x01x", "never read"], true);
  const input: string[] = [];
  let quit = false;
  const session = new ConsoleSession(io, {
    input: (b) => input.push(text(b)),
    quit: () => quit = true,
  });
  await session.pump();
  session.close();
  session.close();
  assert.deepEqual(input, ["echo hi\r"]);
  assert.equal(quit, true);
  assert.deepEqual(raw, [true, false], "raw mode on, then restored once");
});

Deno.test("console session: piped input passes through unchanged, Ctrl-A included", async () => {
  const { io, raw } = fakeIo(["a\x01xb"], false);
  const input: string[] = [];
  const session = new ConsoleSession(io, { input: (b) => input.push(text(b)), quit: () => {} });
  await session.pump();
  session.close();
  assert.deepEqual(input, ["a\x01xb"]);
  assert.deepEqual(raw, []);
});
