/**
 * One host key as a test found it: a first key to check and trust (with where to read it on the
 * host), a trusted one, or a changed one refused with a warning.
 */
import type { HostKey, SshTestResult } from '#shared/hands';

interface HostKeyBoxProps {
  hostKey: HostKey;
  trust: SshTestResult['trust'];
  jump: boolean;
  busy: boolean;
  onTrust: (key: HostKey) => void;
  onForget: (key: HostKey) => void;
}

export function HostKeyBox({ hostKey, trust, jump, busy, onTrust, onForget }: HostKeyBoxProps) {
  const where = `${hostKey.host}${hostKey.port === 22 ? '' : `:${hostKey.port}`}`;
  const keyFile = `/etc/ssh/ssh_host_${algorithmFileName(hostKey.algorithm)}_key.pub`;
  const fingerprint = (
    <p className="machine-key">
      <span className="machine-key-algorithm">{hostKey.algorithm}</span> <code className="machine-fingerprint">{hostKey.fingerprint}</code>
    </p>
  );
  if (trust === 'unknown') {
    return (
      <div className="machine-trust" role="group" aria-label={`${jump ? 'Jump host' : 'Host'} key of ${where}`}>
        <p>
          <strong>
            First connection to {where}
            {jump ? ' (the jump host)' : ''}:
          </strong>{' '}
          check that this fingerprint matches the machine (run <code>ssh-keygen -lf {keyFile}</code> on it).
        </p>
        {fingerprint}
        <button type="button" className="button button-small button-primary" onClick={() => onTrust(hostKey)} disabled={busy}>
          {jump ? 'Trust the jump host' : 'Trust this host'}
        </button>
      </div>
    );
  }
  if (trust === 'changed') {
    return (
      <div className="machine-danger" role="alert">
        <p>
          <strong>
            The host key of {where}
            {jump ? ' (the jump host)' : ''} has changed.
          </strong>{' '}
          Someone may be intercepting the connection (a man-in-the-middle), so Drover refused it.
        </p>
        {fingerprint}
        <p>
          If you know why it changed (the machine was reinstalled, or its SSH keys regenerated), check this fingerprint on the machine with{' '}
          <code>ssh-keygen -lf {keyFile}</code>, then forget the old key and test again. If you do not know why, do not go on.
        </p>
        <button type="button" className="button button-small" onClick={() => onForget(hostKey)} disabled={busy}>
          {jump ? "Forget the jump host's old key" : 'Forget the old key'}
        </button>
      </div>
    );
  }
  return (
    <div className="machine-trusted">
      <span className="machine-trusted-mark">Trusted {jump ? 'jump host' : 'host'} key</span> {fingerprint}
    </div>
  );
}

/** `ssh-ed25519` → `ed25519`, `ecdsa-sha2-nistp256` → `ecdsa`, `ssh-rsa`/`rsa-sha2-512` → `rsa`: the file names sshd uses. */
function algorithmFileName(algorithm: string): string {
  if (algorithm.includes('ed25519')) return 'ed25519';
  if (algorithm.startsWith('ecdsa')) return 'ecdsa';
  if (algorithm.includes('rsa')) return 'rsa';
  return 'ed25519';
}
