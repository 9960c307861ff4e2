/**
 * Managed Agents' `agent_toolset_20260401` as the model sees it on a Docker hand: the specs of
 * `bash`, `read`, `write`, `edit`, `glob` and `grep` (unprefixed names) and the zod schemas their
 * inputs are checked with. The inputs are the SDK's (`BetaManagedAgentsAgentToolset20260401*Input`):
 * bash `{command?, restart?, timeout_ms?}`, read `{file_path, view_range?}`, write `{file_path, content}`,
 * edit `{file_path, old_string, new_string, replace_all?}`, glob `{pattern, path?}`, grep
 * `{pattern, path?}` — plus, for grep, Drover's optional `glob` (which files) and `ignore_case`.
 * Pure: no I/O.
 */
import { z } from 'zod';
import type { AgentToolName } from '#shared/hands';
import { DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS } from '#services/hands/bash-tool';
import type { ToolSpec } from '#services/hands/hand';

/** At most this many paths (glob) or matching lines (grep) in a result. */
export const MAX_RESULTS = 200;
/** The longest file `read`, `edit` handle. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

const filePath = z.string().min(1, 'must not be empty').max(4096);

export const ToolsetInputSchemas = {
  bash: z
    .strictObject({
      command: z.string().min(1, 'must not be empty').max(1_000_000).optional(),
      /** Restarts the shell first (then runs `command`, if given). */
      restart: z.boolean().optional(),
      /** 0 or absent: the default timeout. */
      timeout_ms: z
        .number()
        .int()
        .min(0)
        .max(MAX_TIMEOUT_SECONDS * 1000)
        .optional(),
    })
    .refine((input) => input.command !== undefined || input.restart === true, 'give a command (or restart: true)'),
  read: z.strictObject({
    file_path: filePath,
    view_range: z.tuple([z.number().int().min(1), z.number().int()]).optional(),
  }),
  write: z.strictObject({ file_path: filePath, content: z.string().max(MAX_FILE_BYTES) }),
  edit: z.strictObject({
    file_path: filePath,
    old_string: z.string().min(1, 'must not be empty (to make a new file, use write)'),
    new_string: z.string(),
    replace_all: z.boolean().optional(),
  }),
  glob: z.strictObject({ pattern: z.string().min(1).max(1024), path: filePath.optional() }),
  grep: z.strictObject({
    pattern: z.string().min(1).max(4096),
    path: filePath.optional(),
    glob: z.string().min(1).max(1024).optional(),
    ignore_case: z.boolean().optional(),
  }),
} satisfies Record<AgentToolName, z.ZodType>;

export type ToolsetInput<T extends AgentToolName> = z.infer<(typeof ToolsetInputSchemas)[T]>;

/** Where the tools run, for their descriptions. */
export interface ToolsetPlace {
  /** e.g. "a Docker container (image …, working directory /workspace)". */
  where: string;
  /** The working directory relative paths start from. */
  cwd: string;
  notes: string[];
}

/** The specs of the toolset's tools that are on, in the toolset's order. */
export function toolsetSpecs(tools: readonly AgentToolName[], place: ToolsetPlace): ToolSpec[] {
  const relative = `Relative paths start from ${place.cwd}.`;
  const all: Record<AgentToolName, ToolSpec> = {
    bash: {
      name: 'bash',
      description: [
        `Runs a shell command in ${place.where}.`,
        '* The shell persists between calls: the working directory, variables and functions carry over.',
        '* stdin is /dev/null: interactive programs cannot prompt (use flags like -y).',
        `* A command is killed after timeout_ms (default ${DEFAULT_TIMEOUT_SECONDS * 1000}, at most ${MAX_TIMEOUT_SECONDS * 1000}); the shell then restarts in the same directory. Start servers in the background (\`cmd > log 2>&1 &\`).`,
        '* Long output is cut in the middle: redirect it to a file and read parts of it.',
        '* `{"restart": true}` starts a fresh shell (then runs `command`, when given).',
        ...place.notes.map((note) => `* ${note}`),
      ].join('\n'),
      input_schema: {
        type: 'object',
        properties: {
          command: { type: 'string', description: 'The command line to run. Omit only when restart is true.' },
          restart: { type: 'boolean', description: 'true: restart the shell before running (or instead of) a command.' },
          timeout_ms: {
            type: 'integer',
            minimum: 0,
            maximum: MAX_TIMEOUT_SECONDS * 1000,
            description: `Milliseconds before the command is killed (default and 0: ${DEFAULT_TIMEOUT_SECONDS * 1000}).`,
          },
        },
      },
    },
    read: {
      name: 'read',
      description: `Reads a text file in ${place.where}, with line numbers (as \`cat -n\`). ${relative} Long files: pass view_range to read part of it.`,
      input_schema: {
        type: 'object',
        properties: {
          file_path: { type: 'string', description: 'Path of the file to read.' },
          view_range: {
            type: 'array',
            items: { type: 'integer' },
            minItems: 2,
            maxItems: 2,
            description: '[start_line, end_line], 1-based and inclusive; end_line 0 or negative: to the end of the file.',
          },
        },
        required: ['file_path'],
      },
    },
    write: {
      name: 'write',
      description: `Writes a whole file in ${place.where} (created with its folders, or replaced). ${relative} To change part of a file, use edit.`,
      input_schema: {
        type: 'object',
        properties: {
          file_path: { type: 'string', description: 'Path of the file to write.' },
          content: { type: 'string', description: 'The full contents of the file.' },
        },
        required: ['file_path', 'content'],
      },
    },
    edit: {
      name: 'edit',
      description: `Replaces text in a file in ${place.where}: old_string must occur exactly once (add surrounding lines to make it unique), unless replace_all is true. ${relative} Copy old_string exactly from read's output (without the line numbers).`,
      input_schema: {
        type: 'object',
        properties: {
          file_path: { type: 'string', description: 'Path of the file to edit.' },
          old_string: { type: 'string', description: 'The text to find.' },
          new_string: { type: 'string', description: 'The replacement text.' },
          replace_all: { type: 'boolean', description: 'true: replace every occurrence instead of requiring exactly one.' },
        },
        required: ['file_path', 'old_string', 'new_string'],
      },
    },
    glob: {
      name: 'glob',
      description: `Finds files in ${place.where} by a glob pattern (\`**\` spans folders, \`*\` and \`?\` stay within a name, \`{a,b}\` alternatives), newest first, at most ${MAX_RESULTS}. Folders named .git are skipped.`,
      input_schema: {
        type: 'object',
        properties: {
          pattern: { type: 'string', description: 'The pattern, e.g. "**/*.ts" or "src/*.{js,jsx}".' },
          path: { type: 'string', description: `The folder to search under (default ${place.cwd}).` },
        },
        required: ['pattern'],
      },
    },
    grep: {
      name: 'grep',
      description: `Searches the contents of files in ${place.where} for an extended regular expression (POSIX ERE, as \`grep -E\`); prints \`path:line:text\` for each matching line, at most ${MAX_RESULTS}. Folders named .git are skipped.`,
      input_schema: {
        type: 'object',
        properties: {
          pattern: { type: 'string', description: 'The regular expression.' },
          path: { type: 'string', description: `A folder (searched recursively) or a file (default ${place.cwd}).` },
          glob: { type: 'string', description: 'Only files whose path under `path` matches this glob, e.g. "**/*.py".' },
          ignore_case: { type: 'boolean', description: 'true: match case-insensitively.' },
        },
        required: ['pattern'],
      },
    },
  };
  return tools.map((tool) => all[tool]);
}

/**
 * A glob pattern as a regular expression over `/`-separated relative paths: `**` any number of
 * folders, `*` and `?` within a name, `{a,b}` alternatives, `[…]` a character class.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const slashAfter = pattern[i + 2] === '/';
        const atStart = i === 0 || pattern[i - 1] === '/';
        if (atStart && slashAfter) {
          out += '(?:[^/]*/)*';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '{') {
      depth++;
      out += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (c === ',' && depth > 0) out += '|';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        const body = pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = end;
      }
    } else out += /[.+^$()|\\]/.test(c) ? `\\${c}` : c;
  }
  while (depth-- > 0) out += ')';
  return new RegExp(`^${out}$`);
}
