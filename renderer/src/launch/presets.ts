/**
 * System prompt presets offered by the launch dialog: a starting text the user can edit. Plain
 * data, no DOM; a preset's text is only a default, never enforced.
 */

export const PRESET_IDS = ['none', 'coding', 'reviewer', 'research', 'custom'] as const;
export type PresetId = (typeof PRESET_IDS)[number];

export interface SystemPromptPreset {
  id: PresetId;
  /** What the select shows. */
  label: string;
  /** One sentence under the select: what a session with this prompt does. */
  description: string;
  /** The system prompt it fills in (empty for "None"; "Custom" keeps what is typed). */
  prompt: string;
}

const CODING_PROMPT = `You are a careful software engineer. You work on a computer of your own: a Docker container (your hand), which you reach through its bash and editor tools. Work in /workspace unless told otherwise; the user's project may be mounted there.

- Read the relevant code before changing it, and keep each change small and focused on the task.
- Before you say you are done, run the project's tests (and its linter or type checker, if it has them) and report what they said. If there are no tests, say how you checked your change.
- When something fails, read the error and fix its cause; never hide a failure or skip a test to get a green run.
- End with a short summary: what you changed, why, and anything left to do.`;

const REVIEWER_PROMPT = `You are a code reviewer. Read the code you are pointed at (in /workspace of your hand when you have one) and report what should change; do not edit files unless asked.

- Look first for bugs, data loss, security problems and missing error handling, then for unclear names, dead code and missing tests.
- For each finding give the file and line, what is wrong, why it matters, and a concrete fix.
- Order findings by severity (blocking, should fix, nit) and say plainly when you found nothing serious.`;

const RESEARCH_PROMPT = `You are a research assistant. Answer the user's questions accurately and say how sure you are.

- Separate what you know from what you infer; never invent sources, quotes or numbers.
- When you can run commands (a hand with network access), check facts against primary sources and cite them.
- Say what you could not check, and end with a short, direct answer before any detail.`;

export const SYSTEM_PROMPT_PRESETS: readonly SystemPromptPreset[] = [
  { id: 'none', label: 'None', description: 'No system prompt: Claude answers with its default behaviour.', prompt: '' },
  {
    id: 'coding',
    label: 'Coding agent',
    description: 'Works in /workspace of its Docker hand and runs the tests before saying it is done.',
    prompt: CODING_PROMPT,
  },
  {
    id: 'reviewer',
    label: 'Code reviewer',
    description: 'Reads code and reports bugs and risks by severity, with fixes; does not edit files.',
    prompt: REVIEWER_PROMPT,
  },
  {
    id: 'research',
    label: 'Research assistant',
    description: 'Answers with sources, keeps facts apart from guesses and says what it could not check.',
    prompt: RESEARCH_PROMPT,
  },
  { id: 'custom', label: 'Custom', description: 'Your own system prompt: write it below.', prompt: '' },
];

/** The preset with this id. */
export function presetById(id: PresetId): SystemPromptPreset {
  const preset = SYSTEM_PROMPT_PRESETS.find((candidate) => candidate.id === id);
  if (preset === undefined) throw new Error(`no system prompt preset "${id}"`);
  return preset;
}

export function isPresetId(value: string): value is PresetId {
  return (PRESET_IDS as readonly string[]).includes(value);
}
