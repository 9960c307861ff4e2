/**
 * The redactor for a stream of text that arrives in pieces (a terminal's output, issue 23): a
 * secret whose characters arrive split across two or more pieces is still caught.
 *
 * Each piece is redacted together with what was held back before it; then only the longest tail
 * that is a proper prefix of a secret's form is held back (prepended to the next piece), and the
 * rest goes at once — so output that cannot be the start of a secret (almost every keystroke's
 * echo) is never delayed and starts no timer. When nothing more comes for SETTLE_MS (or the stream
 * ends), the held tail is decided:
 *
 * - shorter than SHORT_PREFIX characters: released as is (too short to tell a secret from text);
 *   it is still remembered, so if the rest of the secret follows, the rest is masked (a short start
 *   of a base64 form only is released at once, the same way: its letters are arbitrary, and
 *   holding them would delay typing common letters);
 * - SHORT_PREFIX characters or more: replaced by the secret's marker (a partial secret never
 *   leaks), and what follows of the same secret is swallowed by that one marker.
 *
 * The pieces are decoded text (the caller decodes bytes with a streaming decoder, so a multibyte
 * character is never split); a held tail starts where a form starts, so it never splits one either.
 */
import type { HoldablePattern, Redactor, SecretPattern } from './redact.ts';

/** How long a held tail waits for more output before it is decided. */
export const SETTLE_MS = 40;
/** A held tail shorter than this is released as is when it settles; from this length on it is masked. */
export const SHORT_PREFIX = 4;

interface Match {
  start: number;
  end: number;
  marker: string;
}

export class StreamRedactor {
  /** Text from the start of the current candidate (a proper prefix of a form), not yet decided in full. */
  private carry = '';
  /** Characters of `carry` already sent (as themselves, or hidden behind a marker already sent). */
  private accounted = 0;
  /** A marker was sent for `carry`. */
  private masked = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private ended = false;

  constructor(
    private readonly redactor: Redactor,
    private readonly send: (text: string) => void,
    private readonly settleMs = SETTLE_MS,
  ) {}

  /** The characters held back now (for a test to check). */
  get held(): string {
    return this.carry.slice(this.accounted);
  }

  write(text: string): void {
    if (text === '' || this.ended) return;
    const { needles, holdable } = this.redactor.streamPatterns();
    if (this.carry === '' && needles.length === 0) return this.send(text);
    const full = this.carry + text;
    const accounted = this.accounted;
    let out = '';
    let position = 0;
    const rawUpTo = (end: number): void => {
      const from = Math.max(position, accounted);
      if (end > from) out += full.slice(from, end);
    };
    // A form found inside the held tail may still grow into a longer one (the value's base64 holds
    // a shorter form of it): it waits with the tail. One that crosses the tail's start is complete.
    let tail = heldTailStart(full, 0, holdable);
    for (const match of matchesIn(full, needles)) {
      if (match.start >= tail) break;
      rawUpTo(match.start);
      // A match that began in text already hidden behind a marker is that marker's.
      if (!(this.masked && match.start < accounted)) out += match.marker;
      position = match.end;
    }
    if (position > tail) tail = heldTailStart(full, position, holdable);
    rawUpTo(tail);
    const accountedInTail = Math.max(0, accounted - tail);
    this.masked = this.masked && accountedInTail > 0;
    this.carry = full.slice(tail);
    this.accounted = accountedInTail;
    // A short start of a base64 form only (arbitrary letters: a typed `a` or `c`) goes now, remembered as a released short tail.
    if (this.carry.length < SHORT_PREFIX && this.carry.length > this.accounted && !startsPlainForm(this.carry, holdable)) {
      out += this.carry.slice(this.accounted);
      this.accounted = this.carry.length;
    }
    if (out !== '') this.send(out);
    this.schedule();
  }

  /** The stream ended: the held tail is decided now. Later writes are ignored. */
  end(): void {
    if (this.ended) return;
    this.settle();
    this.ended = true;
    this.carry = '';
    this.accounted = 0;
  }

  /** Decides the held tail (see the file's comment). */
  private settle(): void {
    this.cancel();
    if (this.carry.length <= this.accounted) return;
    if (this.carry.length < SHORT_PREFIX) {
      this.send(this.carry.slice(this.accounted));
    } else if (!this.masked) {
      this.send(markerFor(this.carry, this.redactor.streamPatterns().holdable));
      this.masked = true;
    }
    this.accounted = this.carry.length;
  }

  private schedule(): void {
    this.cancel();
    if (this.carry.length <= this.accounted) return;
    // The decision waits for the check phase after the timer: output the loop has read by then
    // (it was busy when the timer fell due) comes first, so a slow loop does not split a secret.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.settle();
      });
    }, this.settleMs);
  }

  private cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }
}

/** Every form found in `text`, leftmost first, the longest at a place, none overlapping. */
function matchesIn(text: string, needles: readonly SecretPattern[]): Match[] {
  const found: Match[] = [];
  for (const { needle, marker } of needles) {
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
      found.push({ start: at, end: at + needle.length, marker });
    }
  }
  if (found.length <= 1) return found;
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const chosen: Match[] = [];
  let end = 0;
  for (const match of found) {
    if (match.start < end) continue;
    chosen.push(match);
    end = match.end;
  }
  return chosen;
}

/** Where the longest tail of `text` (from `from` on) that is a proper prefix of a form starts; `text.length` if none. */
function heldTailStart(text: string, from: number, holdable: readonly HoldablePattern[]): number {
  let best = text.length;
  for (const { needle } of holdable) {
    const first = needle.charCodeAt(0);
    for (let start = Math.max(from, text.length - needle.length + 1); start < best; start++) {
      if (text.charCodeAt(start) === first && isPrefixAt(text, start, needle)) {
        best = start;
        break;
      }
    }
  }
  return best;
}

/** Whether `text` from `start` to its end is the start of `needle`. */
function isPrefixAt(text: string, start: number, needle: string): boolean {
  for (let i = start; i < text.length; i++) {
    if (text.charCodeAt(i) !== needle.charCodeAt(i - start)) return false;
  }
  return true;
}

/** Whether `prefix` starts one of the secrets' forms as typed (or URL/JSON/shell-escaped). */
function startsPlainForm(prefix: string, holdable: readonly HoldablePattern[]): boolean {
  return holdable.some(({ needle, encoded }) => !encoded && needle.startsWith(prefix));
}

/** The marker of the longest form `prefix` starts. */
function markerFor(prefix: string, holdable: readonly HoldablePattern[]): string {
  const pattern = holdable.find(({ needle }) => needle.startsWith(prefix));
  // A tail is held only while it starts a form; the vault may have changed since: mask it anyway.
  return pattern?.marker ?? '[secret redacted]';
}
