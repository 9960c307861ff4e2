import { describe, expect, it } from 'vitest';
import { rpcMethods } from '#shared/rpc';
import {
  FIELD,
  MAX_HANDS,
  addHand,
  buildLaunchRequest,
  choosePreset,
  editSystem,
  fieldKeysOf,
  handField,
  handProblems,
  initialForm,
  pickModel,
  type LaunchForm,
  type LaunchRequest,
} from './launch-form.ts';
import { LAUNCH_STORAGE_KEY, parseRemembered, rememberedOf } from './remembered.ts';
import { handNameProblems, nextFreeName, placeAttachIssues } from '#renderer/hands/index.ts';
import { EMPTY_OUTCOME_DRAFT, OUTCOME_FIELD, buildOutcome, outcomeDraftOf, outcomeFieldsFixedBy } from '#renderer/outcome/index.ts';
import { launchShortcutLabel } from '#renderer/ui/keys.ts';
import { placeIssues } from '#renderer/ui/problems.ts';
import { PRESET_IDS, SYSTEM_PROMPT_PRESETS, isPresetId, presetById } from './presets.ts';

const launchArg = rpcMethods['sessions-launch'].arg;
const TOKEN_ID = 'sec_0123456789abcdef';
const NO_REPO = { repoUrl: '', repoTokenId: '', repoPath: '', repoBranch: '' };

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
    expect(draft.hands[0]).toMatchObject({ image: '', network: 'bridge', hostPath: '', containerPath: '', readOnly: true, ...NO_REPO });
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

describe('buildLaunchRequest', () => {
  it('builds the smallest request: a title and nothing else', () => {
    const request = requestOf(form({ title: '  Fix the flaky test  ' }));
    expect(request).toEqual({ title: 'Fix the flaky test' });
    expect(launchArg.safeParse(request).success).toBe(true);
  });

  it('builds a full request the real schema accepts', () => {
    let draft = choosePreset(
      form({ model: 'claude-sonnet-5-5', maxTokens: '8000', thinking: true, thinkingBudget: '2048', message: '  Run the tests.  ' }),
      'coding',
    );
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

  it('builds a request with a repository that the real schema accepts', () => {
    const draft = withHand(form(), { repoUrl: 'https://github.com/team/api.git', repoTokenId: TOKEN_ID, repoBranch: 'main' });
    const request = requestOf(draft);
    expect(request.hands).toEqual([
      {
        name: 'box',
        config: {
          kind: 'docker',
          image: 'debian:bookworm',
          network: 'bridge',
          repos: [{ url: 'https://github.com/team/api.git', token_secret_id: TOKEN_ID, path: '/workspace/api', branch: 'main' }],
        },
      },
    ]);
    expect(launchArg.safeParse(request).success).toBe(true);
    expect(
      launchArg.safeParse(requestOf(withHand(form(), { repoUrl: 'https://github.com/team/site', repoPath: '/srv/site' }))).success,
    ).toBe(true);
  });

  it("names the repository's problems on its fields", () => {
    let draft = withHand(form(), { repoUrl: 'https://me:secret@github.com/team/api.git' });
    draft = withHand(draft, { repoUrl: 'https://github.com/team/api.git', repoTokenId: TOKEN_ID, network: 'none' });
    draft = withHand(draft, { repoUrl: 'git@github.com:team/api.git' });
    expect(problemsOf(draft).fields).toEqual({
      [handField(0, 'repoUrl')]: 'Take the user name and token out of the URL: put the token in Settings → Credentials, not in the URL.',
      [handField(1, 'network')]: 'A repository needs network on to use its token: turn it on, or choose no token.',
      [handField(2, 'repoUrl')]: "Use the repository's https:// address, e.g. https://github.com/team/repo.git.",
    });
  });

  it("leaves the repository's path, branch and token id to the schema, on their fields", () => {
    const fields = problemsOf(
      withHand(form(), { repoUrl: 'https://github.com/team/api.git', repoPath: 'src', repoBranch: 'my branch', repoTokenId: 'ghp_x' }),
    ).fields;
    expect(fields).toEqual({
      [handField(0, 'repoPath')]: 'Must be an absolute path (starting with /).',
      [handField(0, 'repoBranch')]: 'A branch name is letters, digits, ".", "_", "/" and "-".',
      [handField(0, 'repoTokenId')]: 'Must be a secret id like sec_0123456789abcdef.',
    });
    expect(handProblems(fields, 0)).toEqual({
      repoPath: 'Must be an absolute path (starting with /).',
      repoBranch: 'A branch name is letters, digits, ".", "_", "/" and "-".',
      repoTokenId: 'Must be a secret id like sec_0123456789abcdef.',
    });
    expect(handProblems(fields, 1)).toEqual({});
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
        { path: 'hands.0.config.repos.0.url', message: 'must be an http(s) URL' },
        { path: 'hands.0.config.repos.0.token_secret_id', message: 'no such secret' },
        { path: 'hands.0.config.repos.0.path', message: 'must be an absolute path' },
        { path: 'hands.0.config.repos.0.branch', message: 'not a branch' },
        { path: 'hands.0.config.repos.0', message: 'unrecognized key: "depth"' },
      ],
      keys,
    );
    expect(placed).toEqual({
      fields: {
        'hands.0.config.image': 'Choose an image.',
        'hands.0': 'Too many.',
        'hands.0.config.repos.0.url': 'Must be an http(s) URL.',
        'hands.0.config.repos.0.token_secret_id': 'No such secret.',
        'hands.0.config.repos.0.path': 'Must be an absolute path.',
        'hands.0.config.repos.0.branch': 'Not a branch.',
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

  it("puts the attach form's refusals on its fields, the others on top", () => {
    expect(
      placeAttachIssues([
        { path: 'hand.name', message: 'a hand name is 1–32 lowercase letters' },
        { path: 'hand.config.repos.0.url', message: 'must be an http(s) URL' },
        { path: 'hand.config.repos.0.branch', message: 'not a branch' },
        { path: 'hand.config.mounts.0.container_path', message: 'must be an absolute path' },
        { path: 'hand.config.cpus', message: 'too many' },
        { path: 'sessionId', message: 'no such session' },
      ]),
    ).toEqual({
      fields: {
        name: 'A hand name is 1–32 lowercase letters.',
        repoUrl: 'Must be an http(s) URL.',
        repoBranch: 'Not a branch.',
        containerPath: 'Must be an absolute path.',
      },
      general: ['sessionId: No such session.', 'Too many.'],
    });
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
      hands: [
        {
          name: 'web',
          image: 'debian:bookworm',
          network: 'bridge',
          hostPath: '/home/me/p',
          containerPath: '/workspace/p',
          readOnly: true,
          ...NO_REPO,
        },
      ],
    });
    const stored = JSON.stringify(remembered);
    expect(stored).not.toContain('secret project');
    expect(stored).not.toContain('abc');
    expect(stored).not.toContain(presetById('reviewer').prompt.slice(0, 30));

    expect(rememberedOf(editSystem(draft, 'my own words')).presetId).toBeUndefined();

    // Read back: a form with the same defaults and fresh rows.
    const restored = initialForm(parseRemembered(stored));
    expect(restored).toMatchObject({
      title: '',
      model: 'claude-opus-4-5',
      presetId: 'reviewer',
      system: presetById('reviewer').prompt,
      message: '',
    });
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
    expect(
      parseRemembered(JSON.stringify({ hands: Array.from({ length: 9 }, (_, n) => ({ name: `h${n}`, image: 'x', network: 'none' })) })),
    ).toEqual({});
  });

  it('drops a repeated hand name and fills in missing mount fields', () => {
    const raw = JSON.stringify({
      hands: [
        { name: 'box', image: 'a', network: 'none' },
        { name: 'box', image: 'b', network: 'bridge' },
      ],
    });
    expect(parseRemembered(raw)).toEqual({
      hands: [{ name: 'box', image: 'a', network: 'none', hostPath: '', containerPath: '', readOnly: true, ...NO_REPO }],
    });
  });

  it("remembers a hand's repository and its token's id, and reads them back", () => {
    const repo = { repoUrl: 'https://github.com/team/api.git', repoTokenId: TOKEN_ID, repoPath: '/src/api', repoBranch: 'main' };
    const draft = withHand(form(), { ...repo, repoUrl: ` ${repo.repoUrl} `, repoBranch: ' main ' });
    const remembered = rememberedOf(draft);
    expect(remembered.hands).toEqual([expect.objectContaining(repo)]);
    const restored = initialForm(parseRemembered(JSON.stringify(remembered)));
    expect(restored.hands).toEqual([expect.objectContaining({ name: 'box', ...repo })]);
    const config = requestOf({ ...restored, title: 'again' }).hands?.[0]?.config;
    expect(config?.kind === 'docker' ? config.repos : null).toEqual([
      { url: repo.repoUrl, token_secret_id: TOKEN_ID, path: '/src/api', branch: 'main' },
    ]);
  });

  it('drops a bad remembered repository part, keeping the hand', () => {
    const raw = JSON.stringify({
      hands: [
        {
          name: 'a',
          image: 'x',
          network: 'bridge',
          repoUrl: 'https://me:tok@github.com/r.git',
          repoTokenId: 'ghp_secret',
          repoPath: 7,
          repoBranch: 'main',
        },
        { name: 'b', image: 'x', network: 'bridge', repoUrl: 'ssh://git@github.com/r.git', repoTokenId: TOKEN_ID },
      ],
    });
    expect(parseRemembered(raw).hands).toEqual([
      { name: 'a', image: 'x', network: 'bridge', hostPath: '', containerPath: '', readOnly: true, ...NO_REPO, repoBranch: 'main' },
      { name: 'b', image: 'x', network: 'bridge', hostPath: '', containerPath: '', readOnly: true, ...NO_REPO, repoTokenId: TOKEN_ID },
    ]);
    expect(JSON.stringify(parseRemembered(raw))).not.toMatch(/tok@|ghp_secret/);
  });

  it('preselects the remembered model only when the list has it', () => {
    const list = {
      models: [
        { id: 'a', displayName: 'A' },
        { id: 'b', displayName: 'B' },
      ],
      defaultModel: 'b',
      fallbackReason: null,
    };
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

describe('outcomes', () => {
  const outcome = { ...EMPTY_OUTCOME_DRAFT, description: '  The tests pass  ', rubric: '- `npm test` exits 0\n', maxIterations: ' 5 ' };

  it('sends no outcome while the section is off, and keeps what was typed in it', () => {
    const draft = form({ outcomeOn: false, outcome: { ...outcome, description: '', maxIterations: 'lots' } });
    expect(requestOf(draft)).toEqual({ title: 'Fix the flaky test' });
    expect(draft.outcome.maxIterations).toBe('lots');
  });

  it('builds an outcome the real schema accepts, with a verification on one of the launch hands', () => {
    let draft = withHand(form({ outcomeOn: true }), { name: 'box' });
    draft = withHand(draft, { name: 'web' });
    const web = draft.hands[1]?.key ?? '';
    draft = { ...draft, outcome: { ...outcome, verify: true, verifyHand: web, verifyCommand: ' npm test ' } };
    const request = requestOf(draft);
    expect(request.outcome).toEqual({
      description: 'The tests pass',
      rubric: '- `npm test` exits 0',
      max_iterations: 5,
      grader_model: null,
      verification: { hand_id: 'web', command: 'npm test' },
    });
    expect(launchArg.safeParse(request).success).toBe(true);
  });

  it('follows a renamed hand: the draft keeps the row, not its old name', () => {
    let draft = withHand(form({ outcomeOn: true }), { name: 'box' });
    const key = draft.hands[0]?.key ?? '';
    draft = {
      ...draft,
      hands: draft.hands.map((hand) => ({ ...hand, name: 'builder' })),
      outcome: { ...outcome, verify: true, verifyHand: key, verifyCommand: 'make' },
    };
    expect(requestOf(draft).outcome?.verification).toEqual({ hand_id: 'builder', command: 'make' });
  });

  it('names each problem next to its field: no description, iterations out of range, no hand, no command', () => {
    const problems = problemsOf(form({ outcomeOn: true, outcome: { ...EMPTY_OUTCOME_DRAFT, maxIterations: '21', verify: true } }));
    expect(problems.fields).toEqual({
      [OUTCOME_FIELD.description]: 'Describe the outcome: what must be true when Claude is done.',
      [OUTCOME_FIELD.maxIterations]: 'Max iterations is a whole number from 1 to 20.',
      [OUTCOME_FIELD.verifyHand]: 'A verification command runs on one of the session’s hands: add a hand, or turn verification off.',
      [OUTCOME_FIELD.verifyCommand]: 'Give the command to run before each check, e.g. npm test.',
    });
    expect(problems.general).toEqual([]);
  });

  it.each(['0', '1.5', '', 'three', '-2'])('refuses %j iterations', (maxIterations) => {
    const built = buildOutcome({ ...outcome, maxIterations }, []);
    expect(built.ok ? 'accepted' : built.fields[OUTCOME_FIELD.maxIterations]).toMatch(/whole number from 1 to 20/);
  });

  it('says when the chosen hand is gone, or none is chosen', () => {
    const hands = [{ id: 'hand-1', name: 'box' }];
    const gone = buildOutcome({ ...outcome, verify: true, verifyHand: 'hand-9', verifyCommand: 'ls' }, hands);
    expect(gone.ok ? null : gone.fields).toEqual({ [OUTCOME_FIELD.verifyHand]: 'That hand is gone: choose another one.' });
    const none = buildOutcome({ ...outcome, verify: true, verifyHand: '', verifyCommand: 'ls' }, hands);
    expect(none.ok ? null : none.fields).toEqual({ [OUTCOME_FIELD.verifyHand]: 'Choose the hand to run the command on.' });
  });

  it('places the main process refusal of an outcome on its field', () => {
    const placed = placeIssues(
      [
        { path: 'outcome.verification.command', message: 'give the command to run' },
        { path: 'outcome.max_iterations', message: 'at most 20 iterations' },
      ],
      fieldKeysOf(form()),
    );
    expect(placed).toEqual({
      fields: { [OUTCOME_FIELD.verifyCommand]: 'Give the command to run.', [OUTCOME_FIELD.maxIterations]: 'At most 20 iterations.' },
      general: [],
    });
  });

  it('reads an existing definition back into a draft, and builds it again unchanged', () => {
    const definition = {
      description: 'Ship it',
      rubric: '- [ ] docs',
      max_iterations: 4,
      grader_model: 'claude-haiku-4-5',
      verification: { hand_id: 'box', command: 'make check' },
    };
    const draft = outcomeDraftOf(definition);
    expect(draft).toEqual({
      description: 'Ship it',
      rubric: '- [ ] docs',
      maxIterations: '4',
      verify: true,
      verifyHand: 'box',
      verifyCommand: 'make check',
      graderModel: 'claude-haiku-4-5',
    });
    const built = buildOutcome(draft, [{ id: 'box', name: 'box' }]);
    expect(built.ok ? built.outcome : null).toEqual(definition);
    expect(outcomeDraftOf({ description: 'x' })).toMatchObject({ rubric: '', maxIterations: '3', verify: false, graderModel: '' });
  });

  it('clears the problems a change may have fixed: the verification fields together', () => {
    expect(outcomeFieldsFixedBy(outcome, { ...outcome, verify: true })).toEqual(
      expect.arrayContaining([OUTCOME_FIELD.verifyHand, OUTCOME_FIELD.verifyCommand]),
    );
    expect(outcomeFieldsFixedBy(outcome, { ...outcome, description: 'x' })).toEqual([OUTCOME_FIELD.section, OUTCOME_FIELD.description]);
  });

  it('never remembers an outcome', () => {
    const remembered = rememberedOf(form({ outcomeOn: true, outcome }));
    expect(JSON.stringify(remembered)).not.toContain('tests pass');
    expect(initialForm(remembered)).toMatchObject({ outcomeOn: false, outcome: EMPTY_OUTCOME_DRAFT });
  });
});
