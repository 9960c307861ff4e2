import { StringDecoder } from 'node:string_decoder';
import { describe, expect, it } from 'vitest';
import { Redactor, secretMarker } from './redact.ts';
import { SETTLE_MS, SHORT_PREFIX, StreamRedactor } from './stream-redact.ts';

const SECRET = 'sk-ant-stream-0123456789abcdef';
const MARKER = secretMarker('api key');
const WIDE = 'pässwörd-🙂-ünïcode-宝-secret';
const WIDE_MARKER = secretMarker('wide');

function redactor(): Redactor {
  const redactor = new Redactor();
  redactor.setSecrets([
    { name: 'api key', value: SECRET },
    { name: 'wide', value: WIDE },
  ]);
  return redactor;
}

/** Writes `pieces` one after another (no pause), then ends: everything sent. */
function streamed(pieces: readonly string[], shared = redactor()): string {
  let out = '';
  const stream = new StreamRedactor(shared, (text) => (out += text));
  for (const piece of pieces) stream.write(piece);
  stream.end();
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('StreamRedactor', () => {
  it('masks a secret split at every point across two pieces, and at every pair of points across three', () => {
    for (const [secret, marker] of [
      [SECRET, MARKER],
      [WIDE, WIDE_MARKER],
    ] as const) {
      const text = `before ${secret} after\n`;
      const expected = `before ${marker} after\n`;
      for (let i = 1; i < text.length; i++) {
        expect(streamed([text.slice(0, i), text.slice(i)]), `split at ${i}`).toBe(expected);
        for (let j = i + 1; j < text.length; j++) {
          expect(streamed([text.slice(0, i), text.slice(i, j), text.slice(j)]), `split at ${i}, ${j}`).toBe(expected);
        }
      }
    }
  });

  it('masks the encoded forms split across pieces too (base64 of the value), showing at most its first 3 letters', () => {
    const encoded = Buffer.from(SECRET).toString('base64');
    const before = 'Authorization: Basic ';
    const text = `${before}${encoded}\r\n`;
    const whole = redactor().redact(text);
    expect(whole).toBe(`${before}${MARKER}\r\n`);
    for (let i = 1; i < text.length; i++) {
      const shown = i - before.length;
      // A base64 form's first letters are arbitrary: up to 3 of them go at once (see the next test), the rest is masked.
      const expected = shown >= 1 && shown < SHORT_PREFIX ? `${before}${encoded.slice(0, shown)}${MARKER}\r\n` : whole;
      expect(streamed([text.slice(0, i), text.slice(i)]), `split at ${i}`).toBe(expected);
    }
  });

  it('never holds a letter that only starts a base64 form: typing it is not delayed', () => {
    const shared = redactor();
    const { holdable } = shared.streamPatterns();
    const letters = new Set(holdable.filter((form) => form.encoded).map((form) => form.needle.charAt(0)));
    for (const form of holdable) if (!form.encoded) letters.delete(form.needle.charAt(0));
    expect(letters.size).toBeGreaterThan(0);
    for (const letter of letters) {
      const sent: string[] = [];
      const stream = new StreamRedactor(shared, (text) => sent.push(text));
      stream.write(letter);
      expect(sent, letter).toEqual([letter]);
      expect(stream.held).toBe('');
    }
    // The value's own first letter is held (it may be the start of the secret itself).
    const stream = new StreamRedactor(shared, () => undefined);
    stream.write(SECRET.charAt(0));
    expect(stream.held).toBe(SECRET.charAt(0));
    stream.end();
  });

  it('lets a near miss (a prefix of the secret, then something else) through unchanged at every split', () => {
    const text = `x ${SECRET.slice(0, -1)}Z y ${SECRET.slice(0, 5)}\n`;
    for (let i = 1; i < text.length; i++) {
      expect(streamed([text.slice(0, i), text.slice(i)])).toBe(text);
      for (let j = i + 1; j < text.length; j += 3) expect(streamed([text.slice(0, i), text.slice(i, j), text.slice(j)])).toBe(text);
    }
  });

  it('masks a secret written one character at a time, and many secrets back to back', () => {
    expect(streamed([...`>${SECRET}<`])).toBe(`>${MARKER}<`);
    const many = `${SECRET}${SECRET}-${SECRET}${WIDE}${SECRET.slice(0, 9)}`;
    expect(streamed([...many])).toBe(`${MARKER}${MARKER}-${MARKER}${WIDE_MARKER}${MARKER}`);
  });

  it('never splits a multibyte character: bytes split anywhere, decoded as a stream, come out whole', () => {
    const text = `héllo 🙂 ${WIDE} 宝 ${SECRET} 🙂\n`;
    const bytes = Buffer.from(text);
    const expected = `héllo 🙂 ${WIDE_MARKER} 宝 ${MARKER} 🙂\n`;
    for (let i = 1; i < bytes.length; i++) {
      const decoder = new StringDecoder('utf8');
      let out = '';
      const stream = new StreamRedactor(redactor(), (piece) => (out += piece));
      stream.write(decoder.write(bytes.subarray(0, i)));
      stream.write(decoder.write(bytes.subarray(i)));
      stream.write(decoder.end());
      stream.end();
      expect(out, `split at byte ${i}`).toBe(expected);
      expect(out).not.toContain('\ufffd');
    }
  });

  it('sends output that cannot start a secret at once, holding nothing and starting no timer', () => {
    const sent: string[] = [];
    const stream = new StreamRedactor(redactor(), (text) => sent.push(text));
    // (No secret's form here starts with any of these characters.)
    for (const key of 'dir -l /home\r\n') {
      stream.write(key);
      expect(stream.held).toBe('');
    }
    expect(sent.join('')).toBe('dir -l /home\r\n');
    expect(sent).toHaveLength(14);
    // The start of a secret is held; the next character that is not its continuation lets it go.
    stream.write('s');
    expect(stream.held).toBe('s');
    stream.write('o');
    expect(stream.held).toBe('');
    expect(sent.join('')).toBe('dir -l /home\r\nso');
  });

  it(`after ${SETTLE_MS} ms of quiet: a prefix shorter than ${SHORT_PREFIX} goes as is, a longer one becomes the marker`, async () => {
    let out = '';
    const stream = new StreamRedactor(redactor(), (text) => (out += text));
    stream.write('$ sk-');
    expect(out).toBe('$ ');
    await sleep(SETTLE_MS + 40);
    expect(out).toBe('$ sk-');
    // The rest of the secret after a short release: the rest is masked (the short start was shown).
    stream.write(SECRET.slice(3));
    expect(out).toBe(`$ sk-${MARKER}`);

    out = '';
    stream.write(`\r\n${SECRET.slice(0, 10)}`);
    expect(out).toBe('\r\n');
    await sleep(SETTLE_MS + 40);
    expect(out).toBe(`\r\n${MARKER}`);
    // The rest of that secret is swallowed by the one marker; what follows it is shown.
    stream.write(SECRET.slice(10, 20));
    await sleep(SETTLE_MS + 40);
    stream.write(`${SECRET.slice(20)} done\r\n`);
    stream.end();
    expect(out).toBe(`\r\n${MARKER} done\r\n`);
  });

  it('a long prefix that settles into a marker and then turns out not to be the secret: marker, then the rest', async () => {
    let out = '';
    const stream = new StreamRedactor(redactor(), (text) => (out += text));
    stream.write(SECRET.slice(0, 12));
    await sleep(SETTLE_MS + 40);
    stream.write('!not it\n');
    expect(out).toBe(`${MARKER}!not it\n`);
  });

  it('the stream ending decides the held tail by the same rule', () => {
    expect(streamed(['abc sk'])).toBe('abc sk');
    expect(streamed([`abc ${SECRET.slice(0, SHORT_PREFIX)}`])).toBe(`abc ${MARKER}`);
  });

  it('keeps one state per stream: two streams sharing a redactor do not complete each other', () => {
    const shared = redactor();
    let a = '';
    let b = '';
    const first = new StreamRedactor(shared, (text) => (a += text));
    const second = new StreamRedactor(shared, (text) => (b += text));
    first.write(`A ${SECRET.slice(0, 8)}`);
    second.write(`B ${SECRET.slice(0, 3)}`);
    second.write('ordinary\n');
    first.write(`${SECRET.slice(8)}\n`);
    first.end();
    second.end();
    expect(a).toBe(`A ${MARKER}\n`);
    expect(b).toBe(`B ${SECRET.slice(0, 3)}ordinary\n`);
  });

  it('follows the vault: secrets added later are caught, and with none nothing is held', () => {
    const shared = new Redactor();
    let out = '';
    const stream = new StreamRedactor(shared, (text) => (out += text));
    stream.write('sk-ant-');
    expect(stream.held).toBe('');
    shared.setSecrets([{ name: 'api key', value: SECRET }]);
    stream.write(SECRET.slice(0, 6));
    stream.write(`${SECRET.slice(6)}.`);
    stream.end();
    expect(out).toBe(`sk-ant-${MARKER}.`);
  });
});
