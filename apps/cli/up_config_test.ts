// The vmkit up file: what a good one becomes, one line naming the key for every kind of mistake,
// and the shipped JSON schema agreeing with the parser on all of them.
import assert from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020.js";
import { CliError, parseUpFile } from "./mod.ts";

const schema = JSON.parse(
  await Deno.readTextFile(new URL("./up.schema.json", import.meta.url)),
);
// deno-lint-ignore no-explicit-any
const ajv = new (Ajv2020 as any)({ allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile(schema);

const GOOD = {
  $schema: "./up.schema.json",
  vms: [
    {
      name: "server",
      kernel: "Image",
      initrd: "images/server.cpio",
      cmdline: "console=ttyAMA0 quiet",
      mem: "512M",
      smp: 2,
      disks: [{ path: "/abs/data.img", readonly: true }, { path: "scratch.img" }],
      nets: [{ switch: "lan" }, { tap: "tap0", mac: "52:54:00:12:34:56" }],
    },
    { name: "client-1", kernel: "Image", mem: 128, nets: [{ switch: "lan" }] },
  ],
};

function parse(value: unknown): ReturnType<typeof parseUpFile> {
  return parseUpFile(JSON.stringify(value), "/srv/vms/up.json");
}

Deno.test("a good file: paths against the file's folder, defaults, stable distinct MACs", () => {
  const file = parse(GOOD);
  const [server, client] = file.vms;
  assert.equal(server.kernel, "/srv/vms/Image");
  assert.equal(server.initrd, "/srv/vms/images/server.cpio");
  assert.equal(server.memorySize, 512 << 20);
  assert.equal(server.cpus, 2);
  assert.deepEqual(server.disks, [
    { path: "/abs/data.img", readOnly: true },
    { path: "/srv/vms/scratch.img", readOnly: false },
  ]);
  assert.equal(server.nets[0].kind, "switch");
  assert.equal(server.nets[0].name, "lan");
  assert.match(server.nets[0].mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
  assert.deepEqual(server.nets[1], { kind: "tap", name: "tap0", mac: "52:54:00:12:34:56" });
  assert.equal(client.memorySize, 128 << 20);
  assert.equal(client.cpus, 1);
  assert.equal(client.initrd, undefined);
  assert.notEqual(client.nets[0].mac, server.nets[0].mac);
  assert.deepEqual(parse(GOOD), file, "the same file gives the same MACs");
  assert.equal(parseUpFile('{"vms":[{"name":"a","kernel":"k"}]}', "up.json").vms[0].kernel, "./k");
  assert.equal(validate(GOOD), true, JSON.stringify(validate.errors));
});

/** A copy of GOOD with `edit` applied to its first VM. */
function withVm(edit: (vm: Record<string, unknown>) => void): unknown {
  const copy = structuredClone(GOOD);
  edit(copy.vms[0] as Record<string, unknown>);
  return copy;
}

const BAD: [string, unknown, string][] = [
  ["not JSON", "{", "up.json: not valid JSON: "],
  ["not an object", [], "up.json: (top level): expected an object, got an array"],
  ["unknown top-level key", { vms: [], extra: 1 }, "up.json: (top level).extra: unknown key"],
  ["no vms", {}, "up.json: vms: missing (expected an array of VMs)"],
  ["vms not an array", { vms: {} }, "up.json: vms: expected an array, got an object"],
  ["no VM", { vms: [] }, "up.json: vms: expected at least one VM, got an empty array"],
  ["unknown VM key", withVm((v) => v.memory = "1G"), "up.json: vms[0].memory: unknown key"],
  ["no name", withVm((v) => delete v.name), "up.json: vms[0].name: missing"],
  ["bad name", withVm((v) => v.name = "a b"), "up.json: vms[0].name: expected letters"],
  [
    "name twice",
    { vms: [GOOD.vms[1], GOOD.vms[1]] },
    'up.json: vms[1].name: "client-1" is already the name of vms[0]',
  ],
  [
    "no kernel",
    withVm((v) => delete v.kernel),
    "up.json: vms[0].kernel: missing (expected the path of a kernel Image)",
  ],
  [
    "kernel not a string",
    withVm((v) => v.kernel = 7),
    "up.json: vms[0].kernel: expected the path of a kernel Image, got 7",
  ],
  [
    "empty initrd",
    withVm((v) => v.initrd = ""),
    'up.json: vms[0].initrd: expected the path of an initramfs, got ""',
  ],
  [
    "cmdline not a string",
    withVm((v) => v.cmdline = ["quiet"]),
    "up.json: vms[0].cmdline: expected a kernel command line",
  ],
  [
    "mem not a size",
    withVm((v) => v.mem = "lots"),
    'up.json: vms[0].mem: expected a size such as "256M" or "1G", got "lots"',
  ],
  [
    "mem too small",
    withVm((v) => v.mem = "8M"),
    'up.json: vms[0].mem: expected a multiple of 2 MiB from 16M to 16G, got "8M"',
  ],
  ["mem a fraction of MiB", withVm((v) => v.mem = 1.5), "up.json: vms[0].mem: expected a size"],
  [
    "smp too big",
    withVm((v) => v.smp = 9),
    "up.json: vms[0].smp: expected a whole number from 1 to 8, got 9",
  ],
  [
    "smp a string",
    withVm((v) => v.smp = "2"),
    'up.json: vms[0].smp: expected a whole number from 1 to 8, got "2"',
  ],
  [
    "disks not an array",
    withVm((v) => v.disks = "a.img"),
    "up.json: vms[0].disks: expected an array",
  ],
  [
    "disk without a path",
    withVm((v) => v.disks = [{ readonly: true }]),
    "up.json: vms[0].disks[0].path: missing",
  ],
  [
    "disk readonly not boolean",
    withVm((v) => v.disks = [{ path: "a", readonly: "yes" }]),
    'up.json: vms[0].disks[0].readonly: expected true or false, got "yes"',
  ],
  [
    "unknown disk key",
    withVm((v) => v.disks = [{ path: "a", ro: true }]),
    "up.json: vms[0].disks[0].ro: unknown key (expected one of path, readonly)",
  ],
  [
    "net neither",
    withVm((v) => v.nets = [{ mac: "52:54:00:00:00:01" }]),
    'up.json: vms[0].nets[0]: expected {"switch": NAME} or {"tap": IFNAME}, got neither',
  ],
  [
    "net both",
    withVm((v) => v.nets = [{ switch: "a", tap: "b" }]),
    'up.json: vms[0].nets[0]: expected {"switch": NAME} or {"tap": IFNAME}, got both',
  ],
  [
    "bad switch name",
    withVm((v) => v.nets = [{ switch: "a/b" }]),
    "up.json: vms[0].nets[0].switch: expected a name",
  ],
  [
    "TAP name too long",
    withVm((v) => v.nets = [{ tap: "a-very-long-tap-name" }]),
    "up.json: vms[0].nets[0].tap: expected an interface name of at most 15 bytes",
  ],
  [
    "bad MAC",
    withVm((v) => v.nets = [{ switch: "lan", mac: "52:54:00:00:00" }]),
    'up.json: vms[0].nets[0].mac: expected a MAC address such as 52:54:00:12:34:56, got "52:54:00:00:00"',
  ],
  [
    "multicast MAC",
    withVm((v) => v.nets = [{ switch: "lan", mac: "01:00:5e:00:00:01" }]),
    "up.json: vms[0].nets[0].mac: expected a unicast address",
  ],
  [
    "MAC twice",
    withVm((v) =>
      v.nets = [{ switch: "a", mac: "52:54:00:00:00:01" }, {
        switch: "b",
        mac: "52:54:00:00:00:01",
      }]
    ),
    "up.json: vms[0].nets[1].mac: 52:54:00:00:00:01 is already the address of vms[0].nets[0]",
  ],
  [
    "unknown net key",
    withVm((v) => v.nets = [{ switch: "lan", mtu: 9000 }]),
    "up.json: vms[0].nets[0].mtu: unknown key (expected one of switch, tap, mac)",
  ],
];

/** What a schema cannot say: names and MACs given twice, the size a text like "8M" stands for. */
const SCHEMA_CANNOT = new Set(["name twice", "MAC twice", "mem too small"]);

for (const [what, value, message] of BAD) {
  Deno.test(`a bad file, ${what}: one line naming the key, and the schema refuses it too`, () => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    assert.throws(() => parseUpFile(text, "/srv/vms/up.json"), (e) => {
      assert.ok(e instanceof CliError);
      assert.equal(e.code, "USAGE");
      assert.ok(e.message.startsWith(message), `${e.message}\n  does not start with\n${message}`);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    if (typeof value !== "string" && !SCHEMA_CANNOT.has(what)) {
      assert.equal(validate(value), false, `the schema accepts it: ${what}`);
    }
  });
}

Deno.test("a TAP device given to two cards is refused", () => {
  const twice = {
    vms: [{ name: "a", kernel: "k", nets: [{ tap: "tap0" }] }, {
      name: "b",
      kernel: "k",
      nets: [{ tap: "tap0" }],
    }],
  };
  assert.throws(
    () => parse(twice),
    /vms\[1\]\.nets\[0\]\.tap: tap0 is already the TAP device of vms\[0\]\.nets\[0\]/,
  );
});
