/** Settings → Storage: what the threshold field accepts. */
/** "2 GiB" or "2048" (MiB when no unit) → bytes; null when it is not a size. */
export function parseSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(bytes?|b|kib|kb|mib|mb|gib|gb|tib|tb)?\s*$/i.exec(text);
  if (!match) return null;
  const unit = (match[2] ?? 'mib').toLowerCase();
  const power = unit.startsWith('k') ? 1 : unit.startsWith('m') ? 2 : unit.startsWith('g') ? 3 : unit.startsWith('t') ? 4 : 0;
  return Math.round(Number(match[1]) * 1024 ** power);
}
