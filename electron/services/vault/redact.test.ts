import { describe, expect, it } from 'vitest';
import { Redactor, secretMarker } from './redact.ts';

const TOKEN = 'ghp_CanaryToken0123456789abcdef';

describe('Redactor', () => {
  const redactor = new Redactor();
  redactor.setSecrets([
    { name: 'GitHub token', value: TOKEN },
    { name: 'pin', value: '1234' },
  ]);

  it('replaces a secret in the forms it travels in, naming it', () => {
    const marker = '[secret “GitHub token” redacted]';
    expect(redactor.redact(`token=${TOKEN}\n`)).toBe(`token=${marker}\n`);
    expect(redactor.redact(`Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`)).toBe(
      `Authorization: Basic ${marker}`,
    );
    expect(redactor.redact(Buffer.from(TOKEN).toString('base64'))).toBe(marker);
    for (const prefix of ['a', 'ab', 'abc']) {
      const encoded = Buffer.from(`${prefix}${TOKEN}trailing`).toString('base64');
      expect(redactor.redact(encoded)).toContain(marker);
    }
  });

  it('leaves short values and ordinary text alone, and unchanged data unallocated', () => {
    expect(redactor.redact('pin 1234 is short')).toBe('pin 1234 is short');
    const data = { a: ['x', { b: 'y' }], n: 3 };
    expect(redactor.redactDeep(data)).toBe(data);
    const leaked = { a: ['x', { b: `see ${TOKEN}` }], n: 3 };
    expect(redactor.redactDeep(leaked)).toEqual({ a: ['x', { b: 'see [secret “GitHub token” redacted]' }], n: 3 });
    expect(JSON.stringify(redactor.redactDeep({ nested: { deeper: [TOKEN] } }))).not.toContain(TOKEN);
  });

  it('redacts object keys too, and short values only where asked to (values it handed out itself)', () => {
    expect(redactor.redactDeep({ [TOKEN]: 'x' })).toEqual({ '[secret “GitHub token” redacted]': 'x' });
    const own = new Redactor({ minLength: 4 });
    own.setSecrets([{ name: 'pin', value: '1234' }]);
    expect(own.redact('pin 1234')).toBe(`pin ${secretMarker('pin')}`);
    expect(secretMarker('pin')).toBe('[secret “pin” redacted]');
  });

  it('scans nothing until secrets are set', () => {
    const empty = new Redactor();
    expect(empty.active).toBe(false);
    expect(empty.redact(TOKEN)).toBe(TOKEN);
  });
});
