/**
 * What "Test connection" found for a machine: the OS, the latency and each host key (the jump
 * host's first), with a stale mark when the fields changed since.
 */
import type { HostKey, SshTestResult } from '#shared/hands';
import { HostKeyBox } from './HostKeyBox.tsx';

interface TestResultProps {
  result: SshTestResult;
  /** The settings changed since: the result is shown, but no longer counts. */
  stale: boolean;
  busy: boolean;
  onTrust: (key: HostKey) => void;
  onForget: (key: HostKey) => void;
}

export function TestResult({ result, stale, busy, onTrust, onForget }: TestResultProps) {
  const facts = [result.os, result.latencyMs === null ? null : `${Math.round(result.latencyMs)} ms`].filter((fact) => fact !== null);
  // A first-seen host key is not a failure but a question: the box below asks it.
  const awaitingTrust = !result.ok && (result.trust === 'unknown' || result.jumpTrust === 'unknown');
  return (
    <div className={`machine-result${stale ? ' machine-result-stale' : ''}`}>
      {awaitingTrust ? (
        stale && <p className="machine-result-failed">(The settings changed since: test again.)</p>
      ) : (
        <p className={result.ok ? 'machine-result-ok' : 'machine-result-failed'} role={result.ok ? 'status' : 'alert'}>
          <strong>{result.ok ? 'Connected.' : 'The connection failed.'}</strong> {result.message}
          {stale && ' (The settings changed since: test again.)'}
        </p>
      )}
      {facts.length > 0 && <p className="machine-facts">{facts.join(' · ')}</p>}
      {result.jumpHostKey !== null && (
        <HostKeyBox hostKey={result.jumpHostKey} trust={result.jumpTrust} jump busy={busy || stale} onTrust={onTrust} onForget={onForget} />
      )}
      {result.hostKey !== null && (
        <HostKeyBox hostKey={result.hostKey} trust={result.trust} jump={false} busy={busy || stale} onTrust={onTrust} onForget={onForget} />
      )}
    </div>
  );
}
