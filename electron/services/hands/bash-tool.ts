/**
 * The `bash` tool as every hand with a persistent shell offers it (see shell.ts): its input
 * schema, the spec the model sees, and how a run reads as a tool result. Pure: no I/O.
 *
 * Malformed input must never reach a shell or throw (it is a tool error the model can read), and a
 * result must never give an exit code for a command that did not finish (timed out, stopped, or
 * its shell gone).
 */
import { z } from 'zod';
import { describeIssues, issuesText } from '#shared/events';
import type { ToolOutcome, ToolSpec } from '#services/hands/hand';
import type { ShellRunResult } from '#services/hands/shell';

export const DEFAULT_TIMEOUT_SECONDS = 120;
export const MAX_TIMEOUT_SECONDS = 3600;

export const BashInputSchema = z.union([
  z.strictObject({
    command: z.string().min(1, 'must not be empty').max(1_000_000),
    timeout_seconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
  }),
  z.strictObject({ restart: z.literal(true) }),
]);
export type BashInput = z.infer<typeof BashInputSchema>;

/** The bash tool's spec: `where` the commands run, which `shell`, and hand-specific `notes` (one line each). */
export function bashTool({ where, shell, notes = [] }: { where: string; shell: string; notes?: string[] }): ToolSpec {
  return {
    name: 'bash',
    description: [
      `Runs a shell command in ${where}; ${shell}.`,
      '* The shell persists between calls: the working directory, variables and functions carry over.',
      '* stdin is /dev/null: interactive programs cannot prompt (use flags like -y).',
      `* A command is killed after timeout_seconds (default ${DEFAULT_TIMEOUT_SECONDS}, at most ${MAX_TIMEOUT_SECONDS}); the shell then restarts in the same directory. Start long-running servers in the background (\`cmd > log 2>&1 &\`).`,
      '* Long output is cut in the middle: redirect it to a file and read parts of it.',
      '* `{"restart": true}` starts a fresh shell in the working directory.',
      ...notes.map((note) => `* ${note}`),
    ].join('\n'),
    input_schema: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The command line to run.' },
        timeout_seconds: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_TIMEOUT_SECONDS,
          description: `Seconds before the command is killed (default ${DEFAULT_TIMEOUT_SECONDS}).`,
        },
        restart: { type: 'boolean', description: 'true: restart the shell instead of running a command.' },
      },
    },
  };
}

export function text(value: string): ToolOutcome {
  return { isError: false, content: [{ type: 'text', text: value }] };
}

export function errorText(value: string): ToolOutcome {
  return { isError: true, content: [{ type: 'text', text: value }] };
}

/** The result the model reads: the output, then one line on how it ended. */
export function formatRun(result: ShellRunResult, notes: string[], timeoutSeconds: number): ToolOutcome {
  const seconds = (result.durationMs / 1000).toFixed(1);
  const output = result.output === '' ? '(no output)' : result.output.replace(/\n$/, '');
  let status: string;
  let isError = false;
  if (result.timedOut) {
    isError = true;
    status = `[timed out after ${timeoutSeconds} s: the command was killed with its shell; the next command starts a new shell in ${result.cwd} (variables set earlier are gone)]`;
  } else if (result.aborted) {
    isError = true;
    status = `[stopped by the user after ${seconds} s: the command was killed with its shell]`;
  } else if (result.shellEnded) {
    status = `[the shell exited (e.g. \`exit\`); the next command starts a new shell in ${result.cwd}]`;
  } else {
    status = `[exit code ${result.exitCode ?? 'unknown'} · ${seconds} s]`;
  }
  return { isError, content: [{ type: 'text', text: [...notes, output, status].join('\n') }] };
}

/**
 * Routes a call to a shell hand's tools (every such hand has `bash` and `editor`): bash input is
 * checked here, so a malformed call is a tool error the model can read, never a crash.
 */
export function routeShellTool(
  tool: string,
  input: Record<string, unknown>,
  run: { bash: (input: BashInput) => Promise<ToolOutcome>; editor: () => Promise<ToolOutcome> },
): Promise<ToolOutcome> {
  if (tool === 'bash') {
    const parsed = BashInputSchema.safeParse(input);
    if (!parsed.success) {
      return Promise.resolve(
        errorText(
          `The bash tool was not run: ${issuesText(describeIssues(parsed.error.issues))}. Send {"command": "..."} or {"restart": true}.`,
        ),
      );
    }
    return run.bash(parsed.data);
  }
  if (tool === 'editor') return run.editor();
  return Promise.resolve(errorText(`This hand has no tool "${tool}". Its tools: bash, editor.`));
}
