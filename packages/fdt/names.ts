/**
 * Node names: printable ASCII without spaces or `/` (the path separator), with at most one `@`
 * introducing the unit address. The specification's character set is narrower; being a little
 * wider here keeps odd-but-harmless trees readable while still ruling out anything that would break
 * path lookup or the text dump.
 */
export function isValidNodeName(name: string): boolean {
  if (name.length === 0 || name.length > 1024) return false;
  let ats = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x2f) return false;
    if (c === 0x40) ats++;
  }
  return ats <= 1 && name.charCodeAt(0) !== 0x40;
}

/** Property names: non-empty printable ASCII without spaces (the text dump depends on it). */
export function isValidPropertyName(name: string): boolean {
  if (name.length === 0 || name.length > 1024) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** The part of a node name before `@`. */
export function baseName(name: string): string {
  const at = name.indexOf("@");
  return at < 0 ? name : name.slice(0, at);
}
