// "Rewind to here" offers the three choices, the default first, as an accessible menu button.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { rpcMethods } from '#shared/rpc';
import { REWIND_CHOICES, RewindMenu } from './RewindMenu.tsx';

describe('RewindMenu', () => {
  it('is a closed menu button until opened', () => {
    const html = renderToStaticMarkup(<RewindMenu onRewind={() => undefined} busy={false} disabled={false} />);
    expect(html).toContain('aria-haspopup="menu"');
    expect(html).toContain('aria-expanded="false"');
    expect(html).not.toContain('role="menu"');
  });

  it('offers conversation and files first, then conversation only, then files only — each a choice the RPC accepts', () => {
    const html = renderToStaticMarkup(<RewindMenu onRewind={() => undefined} busy={false} disabled={false} initiallyOpen />);
    expect(html).toContain('aria-expanded="true"');
    const keeps = [...html.matchAll(/role="menuitem" tabindex="(-?\d)"[^>]*data-keep="(\w+)"/g)].map((match) => [match[2], match[1]]);
    expect(keeps).toEqual([
      ['both', '0'],
      ['conversation', '-1'],
      ['files', '-1'],
    ]);
    expect(REWIND_CHOICES.map((choice) => choice.label)).toEqual([
      'Conversation and files',
      'Conversation only — keep the files as they are',
      'Files only — keep the conversation',
    ]);
    for (const choice of REWIND_CHOICES) {
      expect(html).toContain(choice.label);
      expect(
        rpcMethods['sessions-rewind'].arg.safeParse({ sessionId: '00000000-0000-4000-8000-000000000000', atSeq: 1, keep: choice.keep })
          .success,
      ).toBe(true);
    }
  });

  it('says it is working while a rewind runs', () => {
    expect(renderToStaticMarkup(<RewindMenu onRewind={() => undefined} busy disabled />)).toContain('Rewinding…');
  });
});
