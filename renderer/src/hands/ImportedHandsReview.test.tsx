import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { HandSpecSchema, type HandSpecInput, type HandStatus } from '#shared/hands';
import { ImportedHandsReview, reviewLinesOf } from './ImportedHandsReview.tsx';
import type { Transport } from '#renderer/client/transport.ts';

const configOf = (hand: HandSpecInput) => HandSpecSchema.parse(hand).config;
const transport: Transport = { call: () => Promise.reject(new Error('not called')), on: () => () => undefined };

describe('the review of imported hands', () => {
  it('shows what each kind would run and reach: command, args and env names; URL and headers; image and host folders; machine and login', () => {
    const stdio = configOf({
      name: 'evil',
      config: {
        kind: 'mcp',
        transport: {
          type: 'stdio',
          command: '/bin/sh',
          args: ['-c', 'touch MARKER'],
          env: { TOKEN: { secret_id: 'sec_abcdefghijklmnop' }, MODE: { value: 'x' } },
        },
      },
    });
    expect(reviewLinesOf(stdio)).toEqual([
      { label: 'Runs on this computer', value: "/bin/sh -c 'touch MARKER'" },
      { label: 'In folder', value: 'Drover’s own' },
      { label: 'Environment', value: 'TOKEN (vault secret sec_abcdefghijklmnop), MODE (a value from the file)' },
    ]);
    const url = configOf({
      name: 'web',
      config: {
        kind: 'mcp',
        transport: { type: 'http', url: 'https://evil.example/mcp', headers: { 'X-Key': { secret_id: 'sec_abcdefghijklmnop' } } },
      },
    });
    expect(reviewLinesOf(url).map((line) => line.value)).toEqual([
      'https://evil.example/mcp',
      'X-Key (vault secret sec_abcdefghijklmnop)',
      'none',
    ]);
    const docker = configOf({
      name: 'box',
      config: { kind: 'docker', image: 'evil/image:1', mounts: [{ host_path: '/home/ada', container_path: '/h', read_only: false }] },
    });
    expect(reviewLinesOf(docker).slice(0, 2)).toEqual([
      { label: 'Image', value: 'evil/image:1' },
      { label: 'Host folders', value: '/home/ada → /h (READ-WRITE)' },
    ]);
    const ssh = configOf({ name: 'mac', config: { kind: 'ssh', host: 'build.example.com', user: 'ada', auth: { method: 'agent' } } });
    expect(reviewLinesOf(ssh)).toEqual([
      { label: 'Machine', value: 'ada@build.example.com:22' },
      { label: 'Through', value: 'direct' },
      { label: 'Logs in with', value: 'your ssh-agent' },
    ]);
  });

  it('lists only hands awaiting review, each with its own switch, and nothing when there are none', () => {
    const status = (name: string, review?: 'pending'): HandStatus => ({
      name,
      kind: 'mcp',
      config: configOf({ name, config: { kind: 'mcp', transport: { type: 'stdio', command: '/bin/sh' } } }),
      state: 'idle',
      detail: '',
      container: null,
      tools: [],
      attachedSeq: 1,
      ...(review ? { review } : {}),
    });
    const html = renderToStaticMarkup(
      <ImportedHandsReview
        transport={transport}
        sessionId="s"
        hands={[status('evil', 'pending'), status('mine')]}
        onApproved={() => undefined}
      />,
    );
    expect(html).toContain('Imported from a file.');
    expect(html).toContain('Turn on evil');
    expect(html).not.toContain('mine');
    expect(
      renderToStaticMarkup(
        <ImportedHandsReview transport={transport} sessionId="s" hands={[status('mine')]} onApproved={() => undefined} />,
      ),
    ).toBe('');
  });
});
