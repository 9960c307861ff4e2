/**
 * The last line of the credential boundary: text about to be stored, logged, pushed to the UI
 * or sent to the model is scanned for the values of stored secrets, and each is replaced by a
 * marker naming the secret. Secrets never enter a hand, but a tool's output can still carry one
 * (a file the user left a token in, an upstream error echoing a header), and this catches it.
 *
 * It matches each value as typed and in the forms it commonly travels in (URL-encoded, JSON- or
 * shell-escaped, base64 of the value and of a Basic credential built from it). Values shorter
 * than MIN_SECRET_LENGTH are not scanned: they would match ordinary text.
 *
 * This is the one masking implementation and `[secret “name” redacted]` the one form: the host's
 * redactor knows every stored secret; a part that hands values to something else (an MCP server's
 * environment or headers) keeps its own, for exactly the values it handed over.
 */

/** Shorter values would match ordinary words; such secrets are still kept, just not scanned. */
export const MIN_SECRET_LENGTH = 6;

export interface KnownSecret {
  name: string;
  value: string;
}

/** The one form a masked secret takes, wherever it is shown. */
export function secretMarker(name: string): string {
  return `[secret “${name}” redacted]`;
}

/** A form of a secret to find in text, and the marker that replaces it. */
export interface SecretPattern {
  needle: string;
  marker: string;
}

/** What a streaming redactor (stream-redact.ts) scans for. */
export interface StreamPatterns {
  /** Every form of every secret, longest first. */
  readonly needles: readonly SecretPattern[];
  /**
   * The forms whose start is held back at a chunk's end: each secret's forms that do not end with
   * another form of it (that one, held, already catches a split: the Basic credential is a public
   * `x-access-token:` part before the value's base64, and must not hold back every `e` typed).
   */
  readonly holdable: readonly HoldablePattern[];
}

export interface HoldablePattern extends SecretPattern {
  /**
   * A base64 form (of the value, of a Basic credential, or the part of the value's base64 that is
   * the same at any offset): its first characters are arbitrary letters, so a short start of it is
   * sent at once (and remembered) rather than held — typing `a` or `c` is never delayed.
   */
  encoded: boolean;
}

export class Redactor {
  private patterns: SecretPattern[] = [];
  private stream: StreamPatterns = { needles: [], holdable: [] };
  private readonly minLength: number;

  /**
   * `minLength`: shorter values are not scanned. Lower than MIN_SECRET_LENGTH only where every
   * value is known to have been handed out (so a match is that value, not a word).
   */
  constructor(options: { minLength?: number } = {}) {
    this.minLength = Math.max(1, options.minLength ?? MIN_SECRET_LENGTH);
  }

  /** Replaces the secrets scanned for (call whenever the vault's contents change). */
  setSecrets(secrets: readonly KnownSecret[]): void {
    const patterns: SecretPattern[] = [];
    const holdable: HoldablePattern[] = [];
    for (const { name, value } of secrets) {
      if (value.length < this.minLength) continue;
      const marker = secretMarker(name);
      const plain = plainFormsOf(value);
      const forms = formsOf(value, this.minLength);
      for (const needle of forms) {
        patterns.push({ needle, marker });
        if (!forms.some((other) => other !== needle && needle.endsWith(other))) {
          holdable.push({ needle, marker, encoded: !plain.includes(needle) });
        }
      }
    }
    // Longest first, so a form containing another is replaced whole.
    patterns.sort((a, b) => b.needle.length - a.needle.length);
    holdable.sort((a, b) => b.needle.length - a.needle.length);
    this.patterns = patterns;
    this.stream = { needles: patterns, holdable };
  }

  /** The forms to scan a stream for (the current ones: they change with the vault). */
  streamPatterns(): StreamPatterns {
    return this.stream;
  }

  /** Whether any secret is scanned for at all. */
  get active(): boolean {
    return this.patterns.length > 0;
  }

  /** `text` with every known secret replaced by its marker. */
  redact(text: string): string {
    let out = text;
    for (const { needle, marker } of this.patterns) {
      if (out.includes(needle)) out = out.split(needle).join(marker);
    }
    return out;
  }

  /**
   * A copy of `value` (any JSON-like data) with every string redacted, object keys included;
   * `value` itself when nothing matched, so the common case allocates nothing.
   */
  redactDeep<T>(value: T): T {
    if (!this.active) return value;
    return walk(value, (text) => this.redact(text)) as T;
  }
}

/** The value as typed, URL-encoded, JSON- and shell-escaped. */
function plainFormsOf(value: string): string[] {
  return [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), value.replace(/'/g, `'\\''`)];
}

function formsOf(value: string, minLength: number): string[] {
  const forms = new Set<string>(plainFormsOf(value));
  forms.add(Buffer.from(value).toString('base64'));
  forms.add(Buffer.from(`x-access-token:${value}`).toString('base64'));
  // Inside base64 of a longer text the value's own encoding depends on its byte offset mod 3,
  // and its first and last groups mix with the neighbours: each alignment is matched by the part
  // that does not.
  for (let shift = 0; shift <= 2; shift++) {
    const shifted = Buffer.from(`${'\u0000'.repeat(shift)}${value}`).toString('base64');
    const stable = shifted.slice(shift === 0 ? 0 : 4, shifted.length - 4);
    if (stable.length >= 8) forms.add(stable);
  }
  return [...forms].filter((form) => form.length >= minLength);
}

function walk(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const next = walk(item, redact);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? out : value;
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const next = walk(item, redact);
      const nextKey = redact(key);
      if (next !== item || nextKey !== key) changed = true;
      out[nextKey] = next;
    }
    return changed ? out : value;
  }
  return value;
}
