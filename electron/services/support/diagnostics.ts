/**
 * Help → Copy Diagnostics: what a bug report needs to say about this installation, as plain text
 * the user pastes. Built only from what is passed in, field by field — versions, the OS, where the
 * data, logs and crash dumps are, whether Docker answers — never the environment, settings or
 * the vault, so there is no secret to leak; the host's redactor runs over it all the same.
 */
export interface DiagnosticsInput {
  app: { version: string; packaged: boolean };
  /** `process.versions` (electron and chrome are absent in serve mode). */
  versions: { node: string; electron?: string | undefined; chrome?: string | undefined; v8?: string | undefined };
  os: { platform: string; release: string; arch: string; version?: string | undefined };
  dataDir: string;
  logsDir: string;
  crashDumpsDir: string;
  docker: { available: boolean; reason: string | null };
  /** Where updates come from ('off' when this build has no update source). */
  updates: string;
  /** The user's home folder, shown as ~ (a path names the user; the report need not). */
  home?: string | undefined;
  now?: Date;
}

/** The diagnostics text; `redact` hides stored secret values (the host's redactor). */
export function diagnosticsText(input: DiagnosticsInput, redact: (text: string) => string = (text) => text): string {
  const tidy = (file: string): string =>
    input.home && (file === input.home || file.startsWith(`${input.home}/`) || file.startsWith(`${input.home}\\`))
      ? `~${file.slice(input.home.length)}`
      : file;
  const { versions, os } = input;
  const lines = [
    `Drover ${input.app.version}${input.app.packaged ? '' : ' (from source)'}`,
    `Electron ${versions.electron ?? '— (serve mode)'} · Node ${versions.node} · Chrome ${versions.chrome ?? '—'}${versions.v8 ? ` · V8 ${versions.v8}` : ''}`,
    `OS: ${os.platform} ${os.release} (${os.arch})${os.version ? ` — ${os.version}` : ''}`,
    `Data folder: ${tidy(input.dataDir)}`,
    `Logs: ${tidy(input.logsDir)}`,
    `Crash dumps: ${tidy(input.crashDumpsDir)}`,
    `Docker: ${input.docker.available ? 'the engine answers' : `not available — ${input.docker.reason ?? 'the engine did not answer'}`}`,
    `Updates: ${input.updates}`,
    `Copied: ${(input.now ?? new Date()).toISOString()}`,
  ];
  return redact(lines.map((line) => tidyInline(line, tidy)).join('\n')) + '\n';
}

/** Shortens the home folder wherever it appears inside a line (e.g. in Docker's reason). */
function tidyInline(line: string, tidy: (file: string) => string): string {
  return line.replace(/(\/|[A-Za-z]:\\)[^\s():,]+/g, (file) => tidy(file));
}
