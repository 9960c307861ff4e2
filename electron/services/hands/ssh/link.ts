/**
 * One multiplexed SSH connection per hand, remade when it drops: every command, shell and SFTP
 * session of the hand shares it. After a drop, the next use reconnects, retrying an unreachable
 * machine with backoff (0.5 s, 1 s, 2 s, 4 s, 8 s) before giving up; a refused login or host key
 * is not retried (it will not fix itself).
 */
import type { SshHandConfig } from '#shared/hands';
import { sleep } from '#services/sleep';
import { SshConnectError, SshConnection, type ConnectOptions, type SshDeps } from './connection.ts';

/** Waits between reconnection attempts to an unreachable machine (ms). */
export const RECONNECT_BACKOFF_MS = [500, 1_000, 2_000, 4_000, 8_000] as const;

export class SshLink {
  private connection: SshConnection | null = null;
  private connecting: Promise<SshConnection> | null = null;

  constructor(
    private readonly config: SshHandConfig,
    private readonly deps: SshDeps,
    private readonly backoffMs: readonly number[] = RECONNECT_BACKOFF_MS,
  ) {}

  /** The open connection, or null (none yet, or it dropped). */
  current(): SshConnection | null {
    return this.connection && !this.connection.isClosed ? this.connection : null;
  }

  /** The open connection, connecting (or reconnecting) first when there is none. */
  get(options: ConnectOptions = {}): Promise<SshConnection> {
    const open = this.current();
    if (open) return Promise.resolve(open);
    this.connecting ??= this.connect(options).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  close(): void {
    this.connection?.close();
    this.connection = null;
  }

  private async connect(options: ConnectOptions): Promise<SshConnection> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.connection = await SshConnection.open(this.config, this.deps, options);
        return this.connection;
      } catch (error) {
        const delay = this.backoffMs[attempt];
        const retriable = error instanceof SshConnectError && error.reason === 'unreachable';
        if (!retriable || delay === undefined || options.signal?.aborted) throw error;
        await sleep(delay, options.signal);
      }
    }
  }
}
