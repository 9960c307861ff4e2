/**
 * A personal machine for the browser specs: a real OpenSSH server on 127.0.0.1 that accepts a fresh
 * key, and a real Secret Service (gnome-keyring on a private D-Bus) for the vault that will hold that
 * key. Call `requireSshd()` (#test/support/sshd) at the top of the spec first: it prints why when
 * sshd is missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSecretService, type SecretService } from '#test/support/keyring';
import { makeKey, TestSshd, testUser, type KeyPair } from '#test/support/sshd';
import { startCockpit, toolThenAnswer, toolUseReply, type Cockpit } from './cockpit.ts';

export interface SshMachine {
  keyring: SecretService;
  sshd: TestSshd;
  /** The key sshd accepts (its private half goes into the vault through the UI or the RPC). */
  key: KeyPair;
  /** The account on the machine. */
  user: string;
  /** Stops sshd and the keyring and removes the key's folder. */
  stop(): Promise<void>;
}

/** The machine, or null when the Secret Service cannot start here (startSecretService printed why). */
export async function startSshMachine(): Promise<SshMachine | null> {
  const keyring = await startSecretService();
  if (keyring === null) return null;
  const keys = mkdtempSync(path.join(tmpdir(), 'drover-e2e-keys-'));
  let sshd: TestSshd | undefined;
  try {
    sshd = await TestSshd.start();
    const key = makeKey(keys);
    sshd.authorize(key);
    const started = sshd;
    return {
      keyring,
      sshd,
      key,
      user: testUser().user,
      async stop() {
        await started.stop();
        await keyring.stop();
        rmSync(keys, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await sshd?.stop();
    await keyring.stop();
    rmSync(keys, { recursive: true, force: true });
    throw error;
  }
}

export interface MachineCockpit {
  ssh: SshMachine;
  cockpit: Cockpit;
  /** Stops serve mode, the model server, sshd and the keyring. */
  stop(): Promise<void>;
}

/**
 * An SSH machine, and serve mode (its vault on the machine's keyring) whose Claude runs `command`
 * on the hand named `machine` and then, given its output, answers `answer`. Null when the Secret
 * Service cannot start here.
 */
export async function startMachineCockpit(command: string, answer: string): Promise<MachineCockpit | null> {
  const ssh = await startSshMachine();
  if (ssh === null) return null;
  try {
    const cockpit = await startCockpit(toolThenAnswer(toolUseReply('machine__bash', { command }), answer), { env: ssh.keyring.env });
    return {
      ssh,
      cockpit,
      async stop() {
        await cockpit.stop();
        await ssh.stop();
      },
    };
  } catch (error) {
    await ssh.stop();
    throw error;
  }
}
