/**
 * The defaults remembered between launches (localStorage, read back as untrusted input): only
 * the model, the preset and the hands. It must never hold a secret or anything the user wrote
 * for one session — never the title, the system prompt's text, an outcome or a message. A hand's
 * repository is remembered by its URL (never one with credentials in it) and its token by the
 * vault secret's id, which is not a secret.
 */
import { z } from 'zod';
import { HandNameSchema } from '#shared/hands';
import { MAX_LAUNCH_HANDS as MAX_HANDS } from '#shared/rpc';
import { SecretIdSchema } from '#shared/vault';
import { parseUrl } from '#renderer/hands/index.ts';
import type { LaunchForm } from './launch-form.ts';
import { PRESET_IDS } from './presets.ts';

/** Where the last launch's model, preset and hands are kept for the next one. */
export const LAUNCH_STORAGE_KEY = 'drover.launch.last';

/** A remembered repository URL: an http(s) URL with no credentials in it, else none. */
const RememberedRepoUrlSchema = z
  .string()
  .max(2048)
  .refine((text) => {
    if (text === '') return true;
    const url = parseUrl(text);
    return url !== null && (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
  })
  .default('')
  .catch('');

const RememberedHandSchema = z.object({
  name: HandNameSchema,
  image: z.string().max(512),
  network: z.enum(['bridge', 'none']),
  hostPath: z.string().max(4096).default(''),
  containerPath: z.string().max(4096).default(''),
  readOnly: z.boolean().default(true),
  // A bad repository part is dropped on its own: the hand is kept.
  repoUrl: RememberedRepoUrlSchema,
  repoTokenId: z
    .union([z.literal(''), SecretIdSchema])
    .default('')
    .catch(''),
  repoPath: z.string().max(4096).default('').catch(''),
  repoBranch: z.string().max(255).default('').catch(''),
});
export type RememberedHand = z.output<typeof RememberedHandSchema>;

/** Each part on its own: a bad part is dropped, the others are kept. */
const RememberedLaunchSchema = z.object({
  model: z.string().trim().min(1).max(200).optional().catch(undefined),
  /** "Custom" is not remembered: its text is the user's own. */
  presetId: z.enum(PRESET_IDS).exclude(['custom']).optional().catch(undefined),
  hands: z.array(RememberedHandSchema).max(MAX_HANDS).optional().catch(undefined),
});
export type RememberedLaunch = z.output<typeof RememberedLaunchSchema>;

/** The remembered defaults from what localStorage holds (anything at all: it is untrusted). */
export function parseRemembered(raw: string | null): RememberedLaunch {
  if (raw === null) return {};
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return {};
  }
  const parsed = RememberedLaunchSchema.safeParse(data);
  if (!parsed.success) return {};
  const { model, presetId, hands } = parsed.data;
  const seen = new Set<string>();
  const unique = hands?.filter((hand) => {
    if (seen.has(hand.name)) return false;
    seen.add(hand.name);
    return true;
  });
  return { ...(model ? { model } : {}), ...(presetId ? { presetId } : {}), ...(unique ? { hands: unique } : {}) };
}

/** What to remember of a launched form: the model, the preset (not a custom text) and the hands. */
export function rememberedOf(form: LaunchForm): RememberedLaunch {
  return {
    ...(form.model.trim() !== '' ? { model: form.model.trim() } : {}),
    ...(form.presetId !== 'custom' ? { presetId: form.presetId } : {}),
    hands: form.hands.map((hand) => ({
      name: hand.name.trim(),
      image: hand.image.trim(),
      network: hand.network,
      hostPath: hand.hostPath.trim(),
      containerPath: hand.containerPath.trim(),
      readOnly: hand.readOnly,
      repoUrl: hand.repoUrl.trim(),
      repoTokenId: hand.repoTokenId,
      repoPath: hand.repoPath.trim(),
      repoBranch: hand.repoBranch.trim(),
    })),
  };
}
