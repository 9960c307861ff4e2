import { describe, expect, it } from 'vitest';
import { rpcMethods } from '#shared/rpc';
import {
  FIELD,
  LAUNCH_STORAGE_KEY,
  MAX_HANDS,
  addHand,
  buildLaunchRequest,
  choosePreset,
  dockerConfigOf,
  editSystem,
  fieldKeysOf,
  handField,
  handNameProblems,
  initialForm,
  launchShortcutLabel,
  nextFreeName,
  parseRemembered,
  pickModel,
  placeIssues,
  rememberedOf,
  type LaunchForm,
  type LaunchRequest,
} from './launch-form.ts';
import { PRESET_IDS, SYSTEM_PROMPT_PRESETS, isPresetId, presetById } from './presets.ts';

const launchArg = rpcMethods['sessions-launch'].arg;

function form(changes: Partial<LaunchForm> = {}): LaunchForm {
  return { ...initialForm({}), title: 'Fix the flaky test', ...changes };
}

function withHand(base: LaunchForm, patch: Partial<LaunchForm['hands'][number]> = {}): LaunchForm {
  const next = addHand(base);
  const index = next.hands.length - 1;
  return { ...next, hands: next.hands.map((hand, i) => (i === index ? { ...hand, image: 'debian:bookworm', ...patch } : hand)) };
}

function requestOf(draft: LaunchForm): LaunchRequest {
  const built = buildLaunchRequest(draft);
  if (!built.ok) throw new Error(`expected a request, got ${JSON.stringify(built.problems)}`);
  return built.request;
}

function problemsOf(draft: LaunchForm) {
  const built = buildLaunchRequest(draft);
  if (built.ok) throw new Error(`expected problems, got ${JSON.stringify(built.request)}`);
  return built.problems;
}

describe('system prompt presets', () => {
  it('has one preset per id, None first and Custom last, each described', () => {
    expect(SYSTEM_PROMPT_PRESETS.map((preset) => preset.id)).toEqual([...PRESET_IDS]);
    expect(SYSTEM_PROMPT_PRESETS[0]?.id).toBe('none');
    expect(SYSTEM_PROMPT_PRESETS.at(-1)?.id).toBe('custom');
    for (const preset of SYSTEM_PROMPT_PRESETS) {
      expect(preset.label).not.toBe('');
      expect(preset.description).toMatch(/\.$/);
    }
  });

  it('gives None and Custom no text, and the others a prompt the settings schema accepts', () => {
    expect(presetById('none').prompt).toBe('');
    expect(presetById('custom').prompt).toBe('');
    for (const id of ['coding', 'reviewer', 'research'] as const) {
      const prompt = presetById(id).prompt;
      expect(prompt.length).toBeGreaterThan(100);
      expect(launchArg.safeParse({ title: 't', settings: { system: prompt } }).success).toBe(true);
    }
  });

  it('says the coding agent works in /workspace and runs the tests before it is done', () => {
    const coding = presetById('coding');
    expect(coding.description).toContain('/workspace');
    expect(coding.prompt).toContain('/workspace');
    expect(coding.prompt).toMatch(/run the project's tests/);
  });

  it('recognises its ids only', () => {
    expect(isPresetId('coding')).toBe(true);
    expect(isPresetId('Coding agent')).toBe(false);
    expect(isPresetId('__proto__')).toBe(false);
  });

  it('fills the prompt from a preset; editing makes it Custom; Custom gives back the last typed text', () => {
    const coding = choosePreset(form(), 'coding');
    expect(coding.system).toBe(presetById('coding').prompt);

    const edited = editSystem(coding, `${coding.system}\nAlso write a changelog entry.`);
    expect(edited.presetId).toBe('custom');

    const backToNone = choosePreset(edited, 'none');
    expect(backToNone.system).toBe('');
    expect(choosePreset(backToNone, 'custom').system).toBe(edited.system);

    // Custom with nothing typed yet keeps the current text as a starting point.
    expect(choosePreset(choosePreset(form(), 'reviewer'), 'custom').system).toBe(presetById('reviewer').prompt);
  });
});

describe('hand names', () => {
  it('suggests box, then box-2, box-3… (the first free one)', () => {
    expect(nextFreeName([])).toBe('box');
    expect(nextFreeName(['box'])).toBe('box-2');
    expect(nextFreeName(['box', 'box-2', 'box-4'])).toBe('box-3');
    expect(nextFreeName(['web'])).toBe('box');
  });

  it('adds hands with the next free names, at most 8', () => {
    let draft = form();
    for (let n = 0; n < MAX_HANDS + 2; n++) draft = addHand(draft);
    expect(draft.hands.map((hand) => hand.name)).toEqual(['box', 'box-2', 'box-3', 'box-4', 'box-5', 'box-6', 'box-7', 'box-8']);
    expect(new Set(draft.hands.map((hand) => hand.key)).size).toBe(MAX_HANDS);
    expect(draft.hands[0]).toMatchObject({ image: '', network: 'bridge', hostPath: '', containerPath: '', readOnly: true });
  });

  it('marks empty, invalid and repeated names (the later of two)', () => {
    expect(handNameProblems(['box', 'web-1'])).toEqual([null, null]);
    const [empty, upper, underscore, dupeFirst, dupeSecond] = handNameProblems(['', 'Box', 'my_box', 'box', ' box ']);
    expect(empty).toMatch(/Give the hand a name/);
    expect(upper).toMatch(/^A hand name is 1–32 lowercase letters/);
    expect(underscore).toMatch(/lowercase letters, digits or dashes/);
    expect(dupeFirst).toBeNull();
    expect(dupeSecond).toBe('Another hand is already called box: give each hand its own name.');
  });
});

describe('dockerConfigOf', () => {
  it('trims, and adds a mount only when a folder is given', () => {
    expect(dockerConfigOf({ image: ' debian:bookworm ', network: 'none', hostPath: ' ', containerPath: '', readOnly: true })).toEqual({
      kind: 'docker',
      image: 'debian:bookworm',
      network: 'none',
    });
    expect(dockerConfigOf({ image: 'node:22', network: 'bridge', hostPath: '/home/me/app', containerPath: '/workspace/app', readOnly: false })).toEqual({
      kind: 'docker',
      image: 'node:22',
      network: 'bridge',
      mounts: [{ host_path: '/home/me/app', container_path: '/workspace/app', read_only: false }],
    });
  });
});

describe('buildLaunchRequest', () => {
  it('builds the smallest request: a title and nothing else', () => {
    const request = requestOf(form({ title: '  Fix the flaky test  ' }));
    expect(request).toEqual({ title: 'Fix the flaky test' });
    expect(launchArg.safeParse(request).success).toBe(true);
  });

  it('builds a full request the real schema accepts', () => {
    let draft = choosePreset(form({ model: 'claude-sonnet-5-5', maxTokens: '8000', thinking: true, thinkingBudget: '2048', message: '  Run the tests.  ' }), 'coding');
    draft = withHand(draft, { hostPath: '/home/me/project', containerPath: '/workspace/project', readOnly: false });
    draft = withHand(draft, { image: 'python:3.13-slim', network: 'none' });
    const request = requestOf(draft);
    expect(request).toEqual({
      title: 'Fix the flaky test',
      settings: { model: 'claude-sonnet-5-5', system: presetById('coding').prompt, max_tokens: 8000, thinking_budget: 2048 },
      hands: [
        {
          name: 'box',
          config: {
            kind: 'docker',
            image: 'debian:bookworm',
            network: 'bridge',
            mounts: [{ host_path: '/home/me/project', container_path: '/workspace/project', read_only: false }],
          },
        },
        { name: 'box-2', config: { kind: 'docker', image: 'python:3.13-slim', network: 'none' } },
      ],
      message: 'Run the tests.',
    });
    expect(launchArg.safeParse(request).success).toBe(true);
  });

  it('leaves out a blank message, an empty prompt and thinking when it is off', () => {
    const request = requestOf(form({ message: ' \n ', system: '   ', thinking: false, thinkingBudget: '12' }));
    expect(request).toEqual({ title: 'Fix the flaky test' });
  });

  it('names the empty title, the bad hand names, the missing image and a half-given folder', () => {
    let draft = withHand(form({ title: '   ' }), { image: '' });
    draft = withHand(draft, { name: 'box' });
    draft = withHand(draft, { name: 'Web_1', hostPath: '/home/me' });
    draft = withHand(draft, { containerPath: '/workspace' });
    const { fields } = problemsOf(draft);
    expect(fields).toEqual({
      [FIELD.title]: 'Give the session a name.',
      [handField(0, 'image')]: 'Choose an image, e.g. debian:bookworm.',
      [handField(1, 'name')]: 'Another hand is already called box: give each hand its own name.',
      [handField(2, 'name')]: expect.stringMatching(/^A hand name is/),
      [handField(2, 'containerPath')]: 'Say where the folder appears in the container, e.g. /workspace/project.',
      [handField(3, 'hostPath')]: 'Choose the folder on this computer to show there.',
    });
  });

  it('checks the limits: max tokens, and a thinking budget of at least 1024 below max tokens', () => {
    expect(problemsOf(form({ maxTokens: '0' })).fields[FIELD.maxTokens]).toMatch(/from 1 to 128,000/);
    expect(problemsOf(form({ maxTokens: '1.5' })).fields[FIELD.maxTokens]).toMatch(/whole number/);
    expect(problemsOf(form({ maxTokens: '200000' })).fields[FIELD.maxTokens]).toBeDefined();
    expect(problemsOf(form({ thinking: true, thinkingBudget: '1000' })).fields[FIELD.thinkingBudget]).toMatch(/at least 1,024/);
    expect(problemsOf(form({ thinking: true, thinkingBudget: '' })).fields[FIELD.thinkingBudget]).toMatch(/at least 1,024/);
    expect(problemsOf(form({ maxTokens: '4096', thinking: true, thinkingBudget: '4096' })).fields[FIELD.thinkingBudget]).toBe(
      'The thinking budget must be below max tokens (4,096).',
    );
    // Without max tokens the main process checks the budget against its default.
    expect(requestOf(form({ thinking: true, thinkingBudget: '4096' })).settings).toEqual({ thinking_budget: 4096 });
  });

  it('catches what only the schema knows, on the right field, in a sentence', () => {
    const fields = problemsOf(withHand(form(), { image: 'Debian Bookworm', hostPath: '/home/me', containerPath: 'workspace' })).fields;
    expect(fields[handField(0, 'image')]).toBe('An image reference is like "debian:bookworm" or "host:5000/team/image:tag".');
    expect(fields[handField(0, 'containerPath')]).toBe('Must be an absolute path (starting with /).');
  });

  it('refuses a ninth hand', () => {
    let draft = form();
    for (let n = 0; n < MAX_HANDS; n++) draft = withHand(draft);
    expect(buildLaunchRequest(draft).ok).toBe(true);
    const ninth = { ...draft, hands: [...draft.hands, { ...draft.hands[0]!, key: 'extra', name: 'extra' }] };
    expect(problemsOf(ninth).fields[FIELD.hands]).toBe('A session has at most 8 hands: remove one.');
  });
});

describe('placeIssues (the main process refused the launch)', () => {
  const keys = fieldKeysOf(withHand(form()));

  it('puts each issue on its field, or on the nearest one that shows it', () => {
    const placed = placeIssues(
      [
        { path: 'hands.0.config.image', message: 'choose an image' },
        { path: 'hands.0.config.cpus', message: 'too many' },
        { path: 'settings.thinking_budget', message: 'the thinking budget must be below max_tokens' },
        { path: 'title', message: 'a session needs a title' },
        { path: 'title', message: 'a second problem with it' },
      ],
      keys,
    );
    expect(placed).toEqual({
      fields: {
        'hands.0.config.image': 'Choose an image.',
        'hands.0': 'Too many.',
        'settings.thinking_budget': 'The thinking budget must be below max_tokens.',
        title: 'A session needs a title.',
      },
      general: [],
    });
  });

  it('keeps issues no field shows for the top of the dialog, with their path', () => {
    expect(
      placeIssues(
        [
          { path: '(root)', message: 'unrecognized key' },
          { path: 'settings.context_budget', message: 'too small' },
          { path: 'hands.3.name', message: 'no such hand row' },
        ],
        keys,
      ),
    ).toEqual({ fields: { hands: 'No such hand row.' }, general: ['Unrecognized key.', 'settings.context_budget: Too small.'] });
  });
});

describe('remembered defaults', () => {
  it('is stored under drover.launch.last', () => {
    expect(LAUNCH_STORAGE_KEY).toBe('drover.launch.last');
  });

  it('remembers the model, the preset and the hands, never the title, the prompt text or the message', () => {
    const draft = withHand(
      choosePreset(form({ title: 'secret project', model: 'claude-opus-4-5', message: 'my token is abc' }), 'reviewer'),
      { name: 'web', hostPath: '/home/me/p', containerPath: '/workspace/p' },
    );
    const remembered = rememberedOf(draft);
    expect(remembered).toEqual({
      model: 'claude-opus-4-5',
      presetId: 'reviewer',
      hands: [{ name: 'web', image: 'debian:bookworm', network: 'bridge', hostPath: '/home/me/p', containerPath: '/workspace/p', readOnly: true }],
    });
    const stored = JSON.stringify(remembered);
    expect(stored).not.toContain('secret project');
    expect(stored).not.toContain('abc');
    expect(stored).not.toContain(presetById('reviewer').prompt.slice(0, 30));

    expect(rememberedOf(editSystem(draft, 'my own words')).presetId).toBeUndefined();

    // Read back: a form with the same defaults and fresh rows.
    const restored = initialForm(parseRemembered(stored));
    expect(restored).toMatchObject({ title: '', model: 'claude-opus-4-5', presetId: 'reviewer', system: presetById('reviewer').prompt, message: '' });
    expect(restored.hands).toEqual([expect.objectContaining({ name: 'web', image: 'debian:bookworm', hostPath: '/home/me/p' })]);
  });

  it('reads garbage as no defaults, and keeps the good parts of a damaged value', () => {
    for (const raw of [null, '', 'not json', '42', 'null', '[]', '"box"', '{"__proto__":{"polluted":true}}']) {
      expect(parseRemembered(raw)).toEqual({});
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(
      parseRemembered(
        JSON.stringify({
          model: 'claude-sonnet-5-5',
          presetId: 'custom',
          hands: [{ name: 'Bad Name', image: 'x', network: 'bridge' }],
        }),
      ),
    ).toEqual({ model: 'claude-sonnet-5-5' });
    expect(parseRemembered(JSON.stringify({ model: 7, presetId: 'coding', hands: 'box' }))).toEqual({ presetId: 'coding' });
    expect(parseRemembered(JSON.stringify({ hands: Array.from({ length: 9 }, (_, n) => ({ name: `h${n}`, image: 'x', network: 'none' })) }))).toEqual({});
  });

  it('drops a repeated hand name and fills in missing mount fields', () => {
    const raw = JSON.stringify({ hands: [{ name: 'box', image: 'a', network: 'none' }, { name: 'box', image: 'b', network: 'bridge' }] });
    expect(parseRemembered(raw)).toEqual({ hands: [{ name: 'box', image: 'a', network: 'none', hostPath: '', containerPath: '', readOnly: true }] });
  });

  it('preselects the remembered model only when the list has it', () => {
    const list = { models: [{ id: 'a', displayName: 'A' }, { id: 'b', displayName: 'B' }], defaultModel: 'b', fallbackReason: null };
    expect(pickModel(list, 'a')).toBe('a');
    expect(pickModel(list, 'gone')).toBe('b');
    expect(pickModel(list, '')).toBe('b');
  });
});

describe('launch shortcut label', () => {
  it('shows ⌘↵ on Apple platforms and Ctrl+Enter elsewhere', () => {
    expect(launchShortcutLabel('macOS')).toBe('⌘↵');
    expect(launchShortcutLabel('MacIntel')).toBe('⌘↵');
    expect(launchShortcutLabel('Windows')).toBe('Ctrl+Enter');
    expect(launchShortcutLabel('Linux x86_64')).toBe('Ctrl+Enter');
    expect(launchShortcutLabel('')).toBe('Ctrl+Enter');
  });
});
