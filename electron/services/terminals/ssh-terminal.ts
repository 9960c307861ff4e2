/**
 * A terminal on an SSH machine: a shell channel with a PTY on the hand's own connection
 * (SshHand.openTerminal), resized with `setWindow`. Closing the channel makes sshd hang the
 * shell up. Nothing is added to the machine's environment.
 */
import type { ClientChannel } from 'ssh2';
import type { TerminalChannel, TerminalEnded, TerminalSize } from './channel.ts';

export function sshTerminal(channel: ClientChannel): TerminalChannel {
  let ended = false;
  let closing = false;
  let code: number | null = null;
  let onEnd: (ended: TerminalEnded) => void = () => undefined;
  const end = (reason: string): void => {
    if (ended) return;
    ended = true;
    if (!closing) onEnd({ code, reason });
  };
  channel.on('exit', (exitCode: number | null) => {
    code = typeof exitCode === 'number' ? exitCode : null;
  });
  channel.on('close', () => end(code === null ? 'the shell ended' : `the shell exited with code ${code}`));
  channel.on('error', (error: Error) => end(`the SSH channel failed: ${error.message}`));
  return {
    write: (data) => void channel.write(data),
    resize: ({ cols, rows }: TerminalSize) => {
      if (!ended) channel.setWindow(rows, cols, 0, 0);
      return Promise.resolve();
    },
    onData: (listener) => {
      channel.on('data', listener);
      channel.stderr.on('data', listener);
    },
    onEnd: (listener) => {
      onEnd = listener;
    },
    pause: () => void channel.pause(),
    resume: () => void channel.resume(),
    close: () => {
      closing = true;
      if (ended) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          channel.destroy();
          resolve();
        }, 5000);
        channel.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        channel.close();
      });
    },
  };
}
