/**
 * One SSH connection to a hand's machine (ssh2), directly or through a jump host (ProxyJump:
 * the target's connection runs inside a `direct-tcpip` channel of the jump host's), with
 * credentials from the vault and every host key checked against the keys the user trusted.
 *
 * It must never accept a host key on its own (an unknown key is refused with its fingerprint for
 * the user to confirm; a changed key is refused as a possible man-in-the-middle), and never put a
 * secret anywhere but into ssh2's authentication (no command line, no log line, no message).
 */
import { performance } from 'node:perf_hooks';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { AppError, type ErrorCode } from '#shared/errors';
import type { HostKey, SshAuth, SshEndpoint, SshHandConfig, SshTestResult } from '#shared/hands';
import { KILL_TREE, PersistentShell, SHELL_LAUNCH, shellQuote, type ShellChannel } from '#services/hands/shell';
import type { SecretResolver } from '#services/vault/resolver';
import { hostKeyOf, type HostKeyTrust, type KnownHosts } from './known-hosts.ts';

const { Client, utils } = ssh2;
type SshClient = InstanceType<typeof Client>;

/** What a connection needs from the main process. */
export interface SshDeps {
  /** Where keys, passphrases and passwords come from (by secret id). */
  secrets?: SecretResolver;
  knownHosts: KnownHosts;
  /** The ssh-agent socket for `agent` auth; default: SSH_AUTH_SOCK of this process. */
  agentSocket?: string;
  /** Milliseconds for the TCP connection and SSH handshake of each hop (default 15 s). */
  readyTimeoutMs?: number;
}

export type SshFailure = 'unreachable' | 'auth' | 'passphrase' | 'agent' | 'secret' | 'host-unknown' | 'host-changed' | 'other';

/** Why a connection could not be made, in words for the user; `reason` for code. */
export class SshConnectError extends AppError {
  constructor(
    code: ErrorCode,
    readonly reason: SshFailure,
    message: string,
    /** The host key involved (host-unknown / host-changed). */
    readonly hostKey: HostKey | null = null,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** The host key each hop presented and whether it is trusted, as the connection saw them. */
export interface SeenHostKey {
  hop: 'target' | 'jump';
  key: HostKey;
  trust: HostKeyTrust;
}

export interface ConnectOptions {
  signal?: AbortSignal;
  /** Told about each hop's host key as it is checked. */
  onHostKey?: (seen: SeenHostKey) => void;
}

export interface ExecResult {
  exitCode: number | null;
  /** stdout and stderr, in arrival order. */
  output: Buffer;
}

/** `user@host:port`, how a machine is named in messages. */
export function endpointName(endpoint: Pick<SshEndpoint, 'user' | 'host' | 'port'>): string {
  return `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
}

export class SshConnection {
  private ended: string | null = null;
  private sftpSession: Promise<SFTPWrapper> | null = null;
  /** Resolves with why, when the connection (either hop) is gone. */
  readonly closed: Promise<string>;

  private constructor(
    private readonly client: SshClient,
    private readonly jump: SshClient | null,
    /** `user@host:port` of the target. */
    readonly name: string,
  ) {
    this.closed = new Promise((resolve) => {
      const end = (reason: string): void => {
        if (this.ended !== null) return;
        this.ended = reason;
        this.client.end();
        this.jump?.end();
        resolve(reason);
      };
      client.on('error', (error: Error) => end(`the connection failed: ${error.message}`));
      client.on('close', () => end('the connection closed'));
      jump?.on('error', (error: Error) => end(`the jump host's connection failed: ${error.message}`));
      jump?.on('close', () => end("the jump host's connection closed"));
    });
  }

  /** Connects (through the jump host when there is one). Rejects with an SshConnectError. */
  static async open(config: SshHandConfig, deps: SshDeps, options: ConnectOptions = {}): Promise<SshConnection> {
    let jump: SshClient | null = null;
    try {
      let sock: ClientChannel | undefined;
      if (config.jump) {
        const jumpEndpoint = config.jump;
        jump = await connectHop(jumpEndpoint, 'jump', deps, options, undefined);
        const through = jump;
        sock = await new Promise<ClientChannel>((resolve, reject) => {
          through.forwardOut('127.0.0.1', 0, config.host, config.port, (error, channel) => {
            if (error) {
              reject(
                new SshConnectError(
                  'not-found',
                  'unreachable',
                  `The jump host ${endpointName(jumpEndpoint)} could not reach ${config.host}:${config.port} (${error.message}). Check the machine's host and port as the jump host sees them, and that it is on.`,
                ),
              );
            } else resolve(channel);
          });
        });
      }
      const client = await connectHop(config, 'target', deps, options, sock);
      return new SshConnection(client, jump, endpointName(config));
    } catch (error) {
      jump?.end();
      throw error;
    }
  }

  get isClosed(): boolean {
    return this.ended !== null;
  }

  /** Why the connection ended, or null while it is open. */
  get closeReason(): string | null {
    return this.ended;
  }

  /**
   * Runs `command` (a line for the login shell) on its own channel, stdin closed. Rejects when the
   * channel cannot open or the connection drops; `signal` closes the channel.
   */
  exec(command: string, options: { signal?: AbortSignal; onData?: (chunk: Buffer) => void } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (this.ended !== null) {
        reject(new Error(`the SSH connection to ${this.name} is closed (${this.ended})`));
        return;
      }
      this.client.exec(command, (error, stream) => {
        if (error) {
          reject(new Error(`could not run a command on ${this.name}: ${error.message}`));
          return;
        }
        const chunks: Buffer[] = [];
        let exitCode: number | null = null;
        const take = (chunk: Buffer): void => {
          chunks.push(chunk);
          options.onData?.(chunk);
        };
        const onAbort = (): void => void stream.close();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        stream.on('data', take);
        stream.stderr.on('data', take);
        stream.on('exit', (code: number | null) => {
          exitCode = typeof code === 'number' ? code : null;
        });
        stream.on('close', () => {
          options.signal?.removeEventListener('abort', onAbort);
          if (options.signal?.aborted) reject(options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted'));
          else if (exitCode === null && this.ended !== null)
            reject(new Error(`the SSH connection to ${this.name} dropped (${this.ended})`));
          else resolve({ exitCode, output: Buffer.concat(chunks) });
        });
        stream.end();
      });
    });
  }

  /**
   * Runs `command` with `stdin` written to it (then closed) and its stdout as a stream with
   * back-pressure (a tar of changed files can be larger than memory should hold); stderr is
   * collected (bounded). `done` settles once the channel closed (read stdout to its end first).
   */
  async execStream(
    command: string,
    stdin: Buffer | AsyncIterable<Buffer>,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ stdout: AsyncIterable<Buffer>; done: Promise<{ exitCode: number | null; stderr: string }> }> {
    if (this.ended !== null) throw new Error(`the SSH connection to ${this.name} is closed (${this.ended})`);
    const stream = await new Promise<ClientChannel>((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) reject(new Error(`could not run a command on ${this.name}: ${error.message}`));
        else resolve(channel);
      });
    });
    let stderr = '';
    let exitCode: number | null = null;
    let writeError: Error | null = null;
    stream.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
    });
    stream.on('exit', (code: number | null) => {
      exitCode = typeof code === 'number' ? code : null;
    });
    const onAbort = (): void => void stream.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = new Promise<{ exitCode: number | null; stderr: string }>((resolve, reject) => {
      stream.on('close', () => {
        options.signal?.removeEventListener('abort', onAbort);
        if (options.signal?.aborted) reject(new Error('stopped'));
        else if (writeError !== null) reject(writeError);
        else if (exitCode === null && this.ended !== null) reject(new Error(`the SSH connection to ${this.name} dropped (${this.ended})`));
        else resolve({ exitCode, stderr: stderr.trim() });
      });
    });
    done.catch(() => undefined); // the consumer sees a failure through stdout or awaits done
    if (Buffer.isBuffer(stdin)) stream.end(stdin);
    else
      void (async () => {
        try {
          for await (const piece of stdin) if (!stream.write(piece)) await new Promise((resolve) => stream.once('drain', resolve));
          stream.end();
        } catch (error) {
          writeError = error instanceof Error ? error : new Error(String(error));
          stream.close();
        }
      })();
    return { stdout: stream as AsyncIterable<Buffer>, done };
  }

  /**
   * Starts a persistent shell (bash --noprofile --norc, else sh) in `workingDir` (created if
   * missing; null: the user's home folder).
   */
  async openShell(workingDir: string | null): Promise<PersistentShell> {
    const script = `exec 2>&1; if [ -n "$1" ]; then mkdir -p -- "$1" && cd -- "$1" || exit 1; fi; ${SHELL_LAUNCH}`;
    const stream = await new Promise<ClientChannel>((resolve, reject) => {
      if (this.ended !== null) {
        reject(new Error(`the SSH connection to ${this.name} is closed (${this.ended})`));
        return;
      }
      this.client.exec(`exec /bin/sh -c ${shellQuote(script)} sh ${shellQuote(workingDir ?? '')}`, (error, channel) => {
        if (error) reject(new Error(`could not start a shell on ${this.name}: ${error.message}`));
        else resolve(channel);
      });
    });
    let ended = false;
    const channel: ShellChannel = {
      write: (text) => void stream.write(text),
      onData: (listener) => {
        stream.removeAllListeners('data');
        stream.stderr.removeAllListeners('data');
        stream.on('data', listener);
        stream.stderr.on('data', listener);
      },
      onEnd: (listener) => {
        const end = (reason: string): void => {
          if (ended) return;
          ended = true;
          listener(reason);
        };
        stream.on('close', () => end(this.ended ?? 'exited'));
        stream.on('error', (error: Error) => end(error.message));
      },
      destroy: () => void stream.close(),
    };
    return PersistentShell.start(channel, {
      killTree: async (pid) => {
        try {
          await this.exec(`exec /bin/sh -c ${shellQuote(KILL_TREE)} sh ${pid}`, { signal: AbortSignal.timeout(10_000) });
        } catch {
          // The connection may be gone: the channel ends all the same.
        }
      },
      killShell: (pid) => {
        if (this.ended === null && pid > 0) void this.exec(`kill -KILL ${pid}`).catch(() => undefined);
      },
    });
  }

  /**
   * A channel to a Unix socket on the machine (OpenSSH's stream-local forwarding), e.g. a Docker
   * engine's socket. Rejects when the connection is closed or the machine refuses.
   */
  openSocket(socketPath: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.ended !== null) {
        reject(new Error(`the SSH connection to ${this.name} is closed (${this.ended})`));
        return;
      }
      this.client.openssh_forwardOutStreamLocal(socketPath, (error, channel) => {
        if (error) reject(new Error(`${this.name} would not open ${socketPath} (${error.message})`));
        else resolve(channel);
      });
    });
  }

  /**
   * A person's terminal (issue 23): a login shell on a pseudo-terminal (`xterm-256color`, `cols` × `rows`),
   * in `workingDir` when given (else the user's home). Resized with the channel's `setWindow`; closing
   * the channel hangs the shell up. Rejects when the connection is closed or the machine refuses a PTY.
   */
  openPty(size: { cols: number; rows: number }, workingDir: string | null): Promise<ClientChannel> {
    const pty = { term: 'xterm-256color', cols: size.cols, rows: size.rows, width: 0, height: 0 };
    return new Promise((resolve, reject) => {
      if (this.ended !== null) {
        reject(new Error(`the SSH connection to ${this.name} is closed (${this.ended})`));
        return;
      }
      const opened = (error: Error | undefined, channel: ClientChannel): void => {
        if (error) reject(new Error(`${this.name} would not open a terminal (${error.message})`));
        else resolve(channel);
      };
      if (workingDir === null) this.client.shell(pty, opened);
      else this.client.exec(`cd ${shellQuote(workingDir)} && exec "\${SHELL:-/bin/sh}" -l`, { pty }, opened);
    });
  }

  /** The connection's SFTP session (one, opened on first use). */
  sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((error, sftp) => {
        if (error)
          reject(
            new Error(
              `could not start SFTP on ${this.name}: ${error.message}. The machine's sshd needs the sftp subsystem for the editor.`,
            ),
          );
        else resolve(sftp);
      });
    });
    const session = this.sftpSession;
    session.catch(() => {
      if (this.sftpSession === session) this.sftpSession = null;
    });
    return session;
  }

  close(): void {
    if (this.ended !== null) return;
    this.client.end();
    this.jump?.end();
  }
}

/** Opens one hop: TCP (or `sock`), handshake, host key check, authentication. */
async function connectHop(
  endpoint: SshEndpoint,
  hop: 'target' | 'jump',
  deps: SshDeps,
  options: ConnectOptions,
  sock: ClientChannel | undefined,
): Promise<SshClient> {
  const name = endpointName(endpoint);
  const role = hop === 'jump' ? `the jump host ${name}` : name;
  options.signal?.throwIfAborted();
  const auth = await authConfig(endpoint.auth, role, deps);
  let verdict: Verdict | null = null;
  const client = new Client();
  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.user,
    readyTimeout: deps.readyTimeoutMs ?? 15_000,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 3,
    tryKeyboard: false,
    ...auth,
    ...(sock ? { sock } : {}),
    hostVerifier: (blob: Buffer): boolean => {
      const key = hostKeyOf(endpoint.host, endpoint.port, blob);
      const trust = deps.knownHosts.check(key);
      verdict = { key, trust, previous: trust === 'changed' ? deps.knownHosts.find(endpoint.host, endpoint.port) : null };
      options.onHostKey?.({ hop, key, trust });
      return trust === 'trusted';
    },
  };
  return new Promise<SshClient>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        client.end();
        reject(error);
      } else resolve(client);
    };
    const onAbort = (): void => finish(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => finish(null));
    client.on('error', (error: Error & { level?: string; code?: string }) => finish(explain(error, endpoint, role, verdict)));
    client.once('close', () =>
      finish(
        new SshConnectError(
          'not-found',
          'unreachable',
          `The connection to ${role} closed before it was ready. Check that sshd runs there.`,
        ),
      ),
    );
    try {
      client.connect(config);
      // Nagle's algorithm off on the TCP socket (a no-op for a hop inside a jump host's channel,
      // which rides on the jump host's socket, set here too). SSH's small packets — a channel
      // open, a request, a close — otherwise wait behind the peer's delayed ACK (40 ms on
      // Linux) whenever an earlier packet is still unacknowledged: every `exec` paid it.
      client.setNoDelay(true);
    } catch (error) {
      finish(explain(error instanceof Error ? error : new Error(String(error)), endpoint, role, verdict));
    }
  });
}

/** ssh2's authentication settings for `auth`, with secrets from the vault. */
async function authConfig(auth: SshAuth, role: string, deps: SshDeps): Promise<Partial<ConnectConfig>> {
  if (auth.method === 'agent') {
    const socket = deps.agentSocket ?? process.env['SSH_AUTH_SOCK'];
    if (!socket) {
      throw new SshConnectError(
        'invalid-argument',
        'agent',
        `Logging in to ${role} uses ssh-agent, but Drover has no agent: SSH_AUTH_SOCK is not set in its environment. Start Drover from a session where ssh-agent runs (ssh-add -l lists your keys), or log in with a key from the vault.`,
      );
    }
    return { agent: socket };
  }
  const secrets = deps.secrets;
  if (!secrets)
    throw new SshConnectError(
      'invalid-argument',
      'secret',
      `Logging in to ${role} needs a secret from the vault, but this Drover has no vault.`,
    );
  if (auth.method === 'password') return { password: await secrets.reveal(auth.password_secret_id, `SSH login to ${role}`) };
  const privateKey = await secrets.reveal(auth.key_secret_id, `SSH login to ${role}`);
  const passphrase =
    auth.passphrase_secret_id === null ? undefined : await secrets.reveal(auth.passphrase_secret_id, `SSH key passphrase for ${role}`);
  const parsed = utils.parseKey(privateKey, passphrase);
  if (parsed instanceof Error) {
    const encrypted = /passphrase|encrypted|decrypt|integrity/i.test(parsed.message);
    if (encrypted && passphrase === undefined) {
      throw new SshConnectError(
        'invalid-argument',
        'passphrase',
        `The private key for ${role} is protected by a passphrase, and the hand has none. Add the key's passphrase (from the vault) to the hand.`,
      );
    }
    if (encrypted) {
      throw new SshConnectError(
        'invalid-argument',
        'passphrase',
        `The passphrase for the private key of ${role} is wrong: it does not unlock the key. Replace the passphrase secret in the vault.`,
      );
    }
    throw new SshConnectError(
      'invalid-argument',
      'secret',
      `The key secret for ${role} is not a private key Drover can read (${parsed.message}). Store the private key file's whole text (OpenSSH or PEM) in the vault.`,
    );
  }
  return passphrase === undefined ? { privateKey } : { privateKey, passphrase };
}

interface Verdict {
  key: HostKey;
  trust: HostKeyTrust;
  /** The key trusted before, when this one differs. */
  previous: HostKey | null;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
]);

function explain(
  error: Error & { level?: string; code?: string },
  endpoint: SshEndpoint,
  role: string,
  verdict: Verdict | null,
): SshConnectError {
  if (verdict && verdict.trust !== 'trusted') return hostKeyError(verdict, role);
  if (error.level === 'client-authentication') {
    const method =
      endpoint.auth.method === 'key' ? 'the private key' : endpoint.auth.method === 'password' ? 'the password' : "the ssh-agent's keys";
    return new SshConnectError(
      'invalid-argument',
      'auth',
      `${role} refused the login as ${endpoint.user} with ${method} (${endpoint.auth.method} authentication). Check the user name, and that the machine accepts this ${endpoint.auth.method === 'password' ? 'password (PasswordAuthentication yes)' : 'key (its public key in ~/.ssh/authorized_keys)'}.`,
      null,
      { cause: error },
    );
  }
  if (error.level === 'client-timeout') {
    return new SshConnectError(
      'not-found',
      'unreachable',
      `${role} did not answer within the time allowed (no SSH handshake). Check that the machine is on and that ${endpoint.host}:${endpoint.port} is reachable.`,
      null,
      { cause: error },
    );
  }
  if (error.code !== undefined && UNREACHABLE_CODES.has(error.code)) {
    const why =
      error.code === 'ECONNREFUSED'
        ? 'the connection was refused: no sshd listens there'
        : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
          ? 'the host name is unknown'
          : error.message;
    return new SshConnectError(
      'not-found',
      'unreachable',
      `Could not reach ${role} at ${endpoint.host}:${endpoint.port}: ${why}. Check the host and port, and that the machine is on.`,
      null,
      { cause: error },
    );
  }
  return new SshConnectError('not-found', 'other', `Could not connect to ${role}: ${error.message}.`, null, { cause: error });
}

function hostKeyError({ key, trust, previous }: Verdict, role: string): SshConnectError {
  if (trust === 'unknown') {
    return new SshConnectError(
      'conflict',
      'host-unknown',
      `${role} is not trusted yet: its host key is ${key.algorithm} ${key.fingerprint}. Use "Test connection" and confirm this fingerprint in the hand's settings (compare it with \`ssh-keygen -lf\` of the machine's host key) before Drover logs in.`,
      key,
    );
  }
  return new SshConnectError(
    'conflict',
    'host-changed',
    `WARNING: the host key of ${role} has changed — possibly a man-in-the-middle attack. Trusted key: ${previous ? `${previous.algorithm} ${previous.fingerprint}` : 'unknown'}; key presented now: ${key.algorithm} ${key.fingerprint}. Drover refused to connect. If the machine was really reinstalled or its keys replaced, forget the old key in the hand's settings and confirm the new fingerprint.`,
    key,
  );
}

/**
 * "Test connection": connects, reports each hop's host key and trust (an unknown key is reported,
 * not trusted), the round trip of `true` and `uname -srm`. Never throws for failures a user can
 * meet (ok: false and a message).
 */
export async function testConnection(config: SshHandConfig, deps: SshDeps, signal?: AbortSignal): Promise<SshTestResult> {
  const seen: { target: SeenHostKey | null; jump: SeenHostKey | null } = { target: null, jump: null };
  const result = (ok: boolean, message: string, latencyMs: number | null = null, os: string | null = null): SshTestResult => ({
    ok,
    message,
    hostKey: seen.target?.key ?? null,
    trust: seen.target?.trust ?? null,
    jumpHostKey: seen.jump?.key ?? null,
    jumpTrust: seen.jump?.trust ?? null,
    latencyMs,
    os,
  });
  let connection: SshConnection;
  try {
    connection = await SshConnection.open(config, deps, {
      ...(signal ? { signal } : {}),
      onHostKey: (key) => {
        seen[key.hop] = key;
      },
    });
  } catch (error) {
    return result(false, error instanceof Error ? error.message : String(error));
  }
  try {
    const started = performance.now();
    await connection.exec('true', { signal: AbortSignal.timeout(15_000) });
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const uname = await connection.exec('uname -srm', { signal: AbortSignal.timeout(15_000) }).catch(() => null);
    const os = uname && uname.exitCode === 0 ? uname.output.toString('utf8').trim() || null : null;
    return result(
      true,
      `Connected to ${connection.name}${config.jump ? ` through ${endpointName(config.jump)}` : ''}${os ? `: ${os}` : ''}.`,
      latencyMs,
      os,
    );
  } catch (error) {
    return result(
      false,
      `Logged in to ${connection.name}, but could not run a command there: ${error instanceof Error ? error.message : String(error)}.`,
    );
  } finally {
    connection.close();
  }
}
