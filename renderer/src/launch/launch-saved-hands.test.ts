// Hands from the hand library in the launch dialog's form: added under their saved name (or the
// next free one), sent exactly as saved after the Docker rows, named in the problems at their
// index, counted against the session's hands limit, offered to policies and the outcome's command.
import { describe, expect, it } from 'vitest';
import type { HandLibraryItem } from '#shared/hand-library';
import { rpcMethods } from '#shared/rpc';
import {
  MAX_HANDS,
  addHand,
  addSavedHand,
  buildLaunchRequest,
  fieldKeysOf,
  handRows,
  initialForm,
  launchHandChoices,
} from './launch-form.ts';

const KEY_ID = 'sec_0123456789abcdef';

function item(label: string, name: string, kind: 'ssh' | 'mcp' = 'ssh'): HandLibraryItem {
  const config =
    kind === 'ssh'
      ? {
          kind: 'ssh' as const,
          host: '127.0.0.1',
          port: 2222,
          user: 'me',
          auth: { method: 'key' as const, key_secret_id: KEY_ID, passphrase_secret_id: null },
          jump: null,
          working_dir: null,
          snapshots: true,
        }
      : {
          kind: 'mcp' as const,
          transport: { type: 'stdio' as const, command: 'npx', args: ['docs-server'], cwd: null, env: {} },
          enabled: true,
          disabled_tools: [],
          timeout_seconds: 120,
        };
  return {
    id: `hlib_${'0'.repeat(15)}${label.length % 10}`,
    label,
    hand: { name, config },
    savedAt: '2026-12-03T10:00:00.000Z',
    secrets: [],
  };
}

describe('hands from the library at launch', () => {
  it('adds them after the Docker rows, exactly as saved, under a free name', () => {
    let form = { ...initialForm({}), title: 'On my machine' };
    form = addHand(form);
    form = { ...form, hands: form.hands.map((hand) => ({ ...hand, image: 'debian:bookworm' })) };
    form = addSavedHand(form, item('Build box', 'box'));
    form = addSavedHand(form, item('Docs', 'docs', 'mcp'));
    expect(handRows(form).map((hand) => hand.name)).toEqual(['box', 'box-2', 'docs']);

    const built = buildLaunchRequest(form);
    if (!built.ok) throw new Error(JSON.stringify(built.problems));
    expect(built.request.hands?.map((hand) => [hand.name, hand.config.kind])).toEqual([
      ['box', 'docker'],
      ['box-2', 'ssh'],
      ['docs', 'mcp'],
    ]);
    expect(built.request.hands?.[1]?.config).toEqual(item('Build box', 'box').hand.config);
    expect(rpcMethods['sessions-launch'].arg.safeParse(built.request).success).toBe(true);
    expect(launchHandChoices(form).map((choice) => choice.name)).toEqual(['box', 'box-2', 'docs']);
  });

  it('names a bad or repeated name on its own row, at its index after the Docker rows', () => {
    let form = { ...initialForm({}), title: 'Two machines' };
    form = addSavedHand(form, item('A', 'box'));
    form = addSavedHand(form, item('B', 'lab'));
    form = { ...form, saved: form.saved.map((hand, index) => (index === 1 ? { ...hand, name: 'box' } : hand)) };
    const built = buildLaunchRequest(form);
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.problems.fields['hands.1.name']).toMatch(/Another hand is already called box/);
    expect(fieldKeysOf(form).has('hands.1.name')).toBe(true);

    form = { ...form, saved: form.saved.map((hand, index) => (index === 1 ? { ...hand, name: 'Bad_Name' } : hand)) };
    const bad = buildLaunchRequest(form);
    expect(bad.ok ? null : bad.problems.fields['hands.1.name']).toMatch(/lowercase letters/);
  });

  it('counts against the hands limit with the Docker rows', () => {
    let form = { ...initialForm({}), title: 'Full' };
    for (let index = 0; index < MAX_HANDS - 1; index++) form = addHand(form);
    form = addSavedHand(form, item('A', 'lab'));
    expect(handRows(form)).toHaveLength(MAX_HANDS);
    expect(addSavedHand(form, item('B', 'lab2'))).toBe(form);
    expect(addHand(form)).toBe(form);
  });
});

describe('the saved hands’ default policies at launch', () => {
  it('machines and untrusted MCP servers ask; Docker presets and trusted servers allow', () => {
    let form = { ...initialForm({}), title: 'Policies' };
    form = addHand(form);
    form = addSavedHand(form, item('Machine', 'lab'));
    form = addSavedHand(form, item('Docs', 'docs', 'mcp'));
    const trusted = item('Trusted docs', 'tdocs', 'mcp');
    if (trusted.hand.config.kind === 'mcp') trusted.hand.config = { ...trusted.hand.config, trusted: true };
    form = addSavedHand(form, trusted);
    expect(handRows(form).map((row) => row.defaultPolicy)).toEqual([undefined, 'always_ask', 'always_ask', 'always_allow']);
  });
});
