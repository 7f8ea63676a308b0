import { parseFdt, serializeFdt, setBootargs, toDts } from "./mod.ts";

const virt = Deno.readFileSync(new URL("./testdata/qemu-virt.dtb", import.meta.url));
const parsed = parseFdt(virt);
const compact = parseFdt(virt);
compact.layout = undefined;
const compactBlob = serializeFdt(compact);

Deno.bench("parse QEMU virt (1 MiB blob, 7 KiB of structure)", { group: "parse" }, () => {
  parseFdt(virt);
});

Deno.bench("parse QEMU virt, compact layout", { group: "parse", baseline: true }, () => {
  parseFdt(compactBlob);
});

Deno.bench("serialise QEMU virt unmodified (1 MiB out)", { group: "serialise" }, () => {
  serializeFdt(parsed);
});

Deno.bench("serialise QEMU virt, compact layout", { group: "serialise", baseline: true }, () => {
  serializeFdt(compact);
});

Deno.bench("parse, set bootargs, serialise (compact)", () => {
  const fdt = parseFdt(compactBlob);
  setBootargs(fdt, "console=ttyAMA0");
  serializeFdt(fdt);
});

Deno.bench("toDts QEMU virt", () => {
  toDts(parsed);
});
