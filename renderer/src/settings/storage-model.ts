/** Settings → Storage: what the threshold, cap and turns fields accept. */
import { formatBytes } from '#shared/storage';

/** "2 GiB" or "2048" (MiB when no unit) → bytes; null when it is not a size. */
export function parseSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(bytes?|b|kib|kb|mib|mb|gib|gb|tib|tb)?\s*$/i.exec(text);
  if (!match) return null;
  const unit = (match[2] ?? 'mib').toLowerCase();
  const power = unit.startsWith('k') ? 1 : unit.startsWith('m') ? 2 : unit.startsWith('g') ? 3 : unit.startsWith('t') ? 4 : 0;
  return Math.round(Number(match[1]) * 1024 ** power);
}

/** A cap field: empty (or "none", "no cap") → no cap (null); a size → bytes; undefined when it is neither. */
export function parseCap(text: string): number | null | undefined {
  if (/^\s*(none|no cap)?\s*$/i.test(text)) return null;
  return parseSize(text) ?? undefined;
}

/** What a cap field shows: empty for no cap. */
export function capText(bytes: number | null): string {
  return bytes === null ? '' : formatBytes(bytes);
}

/** The turns field: a whole number from 1; null otherwise. */
export function parseTurns(text: string): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const turns = Number(text);
  return turns >= 1 ? turns : null;
}
