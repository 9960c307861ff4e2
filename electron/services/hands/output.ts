/**
 * Command output as a hand keeps it: the head and the tail of what a command printed, whatever
 * it printed (a runaway `yes` costs a few kilobytes, not the machine's memory), with a marker
 * saying how much was cut from the middle. Pure; shared by every hand that runs commands.
 *
 * It must never hold more than the head plus twice the tail, whatever a command prints, never
 * split a multi-byte character, and never pass on a byte of an end-of-command marker as output.
 */

/** Characters of a command's output the model sees at most (head + tail). */
export const OUTPUT_HEAD_CHARS = 10_000;
export const OUTPUT_TAIL_CHARS = 20_000;

export class OutputCapture {
  private readonly decoder = new TextDecoder('utf-8');
  private head = '';
  private tail = '';
  private omitted = 0;
  private bytes = 0;

  constructor(
    private readonly headChars = OUTPUT_HEAD_CHARS,
    private readonly tailChars = OUTPUT_TAIL_CHARS,
  ) {}

  /** Bytes received so far. */
  get totalBytes(): number {
    return this.bytes;
  }

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    this.append(this.decoder.decode(chunk, { stream: true }));
  }

  /** Flushes a trailing partial character (call once, at the end). */
  end(): void {
    this.append(this.decoder.decode());
  }

  /** The output with the middle cut out when it was too long. */
  text(): string {
    this.trimTail();
    if (this.omitted === 0) return this.head + this.tail;
    return `${this.head}\n\n[… ${this.omitted.toLocaleString('en-US')} characters cut from the middle of the output (${this.bytes.toLocaleString('en-US')} bytes in all). Redirect the output to a file and read parts of it (head, tail, grep -n) …]\n\n${this.tail}`;
  }

  private append(text: string): void {
    if (text === '') return;
    if (this.head.length < this.headChars) {
      const room = this.headChars - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
      if (text === '') return;
    }
    this.tail += text;
    if (this.tail.length > this.tailChars * 2) this.trimTail();
  }

  private trimTail(): void {
    const excess = this.tail.length - this.tailChars;
    if (excess <= 0) return;
    this.tail = this.tail.slice(excess);
    this.omitted += excess;
  }
}

/**
 * Finds the end-of-command marker a hand's shell prints after each command (`\n<nonce>:<info>\n`,
 * e.g. the exit code and working directory) in a byte stream, passing the bytes before it on as
 * output. Bytes that could be the start of the marker are held back until the next chunk decides.
 */
export class MarkerScanner {
  private pending: Buffer = Buffer.alloc(0);
  private readonly prefix: Buffer;

  constructor(nonce: string) {
    this.prefix = Buffer.from(`\n${nonce}:`);
  }

  /** Output before the marker, and the marker's info once the whole marker has arrived. */
  push(chunk: Buffer): { output: Buffer; info: string | null } {
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const at = buffer.indexOf(this.prefix);
    if (at >= 0) {
      const end = buffer.indexOf(0x0a, at + this.prefix.length);
      if (end >= 0) {
        const info = buffer.subarray(at + this.prefix.length, end).toString('utf8');
        this.pending = Buffer.alloc(0);
        return { output: buffer.subarray(0, at), info };
      }
      this.pending = Buffer.from(buffer.subarray(at));
      return { output: buffer.subarray(0, at), info: null };
    }
    // Keep back the longest suffix that is a prefix of the marker.
    let keep = Math.min(this.prefix.length - 1, buffer.length);
    while (keep > 0 && !buffer.subarray(buffer.length - keep).equals(this.prefix.subarray(0, keep))) keep--;
    this.pending = Buffer.from(buffer.subarray(buffer.length - keep));
    return { output: buffer.subarray(0, buffer.length - keep), info: null };
  }

  /** Bytes held back (output, when the stream ends without a marker). */
  rest(): Buffer {
    return this.pending;
  }
}
