if (import.meta.main) {
  console.error("vmkit: not built yet");
  Deno.exit(1);
}
