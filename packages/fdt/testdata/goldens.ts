const testdata = new URL("./", import.meta.url);

/** Every golden blob in testdata/, by file name, sorted. */
export function goldenBlobs(): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const names = [...Deno.readDirSync(testdata)].map((e) => e.name).filter((n) =>
    n.endsWith(".dtb")
  );
  for (const name of names.sort()) out.set(name, Deno.readFileSync(new URL(name, testdata)));
  return out;
}

/** One golden blob. */
export function goldenBlob(name: string): Uint8Array {
  return Deno.readFileSync(new URL(name, testdata));
}
