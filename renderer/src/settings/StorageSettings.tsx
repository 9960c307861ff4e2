/**
 * Settings → Storage (issue 20 item 5): what Drover keeps on disk — checkpoints, snapshot images
 * and containers — in total and per session (largest first, each hand on a line of its own), the
 * free space of the data folder's disk, the low-disk warning when checkpoints are paused, the
 * threshold, and "Reclaim unused storage" with the bytes it freed; the package images one by one;
 * the caps and retention (StorageLimits.tsx) and a warning for each session paused at its cap.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { formatBytes, type StorageUsage } from '#shared/storage';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { StorageLimits, type StorageMessage } from './StorageLimits.tsx';
import { parseSize } from './storage-model.ts';

type Message = StorageMessage;

export function StorageSettings({ transport }: { transport: Transport }) {
  const id = useId();
  const [usage, setUsage] = useState<StorageUsage | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Message | null>(null);
  const [minFree, setMinFree] = useState('');
  const [percent, setPercent] = useState('');

  const show = useCallback((next: StorageUsage) => {
    setUsage(next);
    setMinFree(formatBytes(next.threshold.minFreeBytes));
    setPercent(String(next.threshold.minFreePercent));
  }, []);

  const refresh = useCallback(async () => {
    try {
      show(await transport.call('storage-usage', undefined));
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not measure what Drover stores: ${messageOf(reason)}` });
    }
  }, [transport, show]);

  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- loads from the host: state is set when its answer arrives
    void refresh();
  }, [refresh]);

  async function reclaim(): Promise<void> {
    setBusy(true);
    setMessage(null);
    try {
      const freed = await transport.call('storage-reclaim', undefined);
      setMessage({
        tone: 'ok',
        text:
          freed.freedBytes === 0
            ? 'Nothing to reclaim: every checkpoint, image and container is still needed by a session.'
            : `Freed ${formatBytes(freed.freedBytes)} (${freed.blobs} checkpoint blobs, ${freed.images} images${freed.packageImages > 0 ? ` of which ${freed.packageImages} package images` : ''}, ${freed.containers} containers).`,
      });
      await refresh();
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not reclaim storage: ${messageOf(reason)}` });
    } finally {
      setBusy(false);
    }
  }

  async function saveThreshold(event: FormEvent): Promise<void> {
    event.preventDefault();
    const bytes = parseSize(minFree);
    const share = Number(percent);
    if (bytes === null || percent.trim() === '' || !Number.isFinite(share) || share < 0 || share > 100) {
      setMessage({
        tone: 'error',
        text: 'Give the free space as a size such as "2 GiB" or "500 MiB", and the share as a percentage from 0 to 100.',
      });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      show(await transport.call('storage-set-threshold', { minFreeBytes: bytes, minFreePercent: share }));
      setMessage({ tone: 'ok', text: 'Saved.' });
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not save the threshold: ${messageOf(reason)}` });
    } finally {
      setBusy(false);
    }
  }

  const totals = usage?.totals;
  const capped = usage?.sessions.filter((session) => session.capPaused !== null) ?? [];
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`} data-testid="storage-settings">
      <h3 id={`${id}-title`}>Storage</h3>
      <p className="settings-hint">
        Checkpoints keep each hand's files after every tool call, stored once however many turns, branches and sessions share them. Mounted
        host folders are yours and never stored here.
      </p>
      {usage?.checkpointsPaused != null && (
        <p className="notice notice-warn" role="alert" data-testid="storage-paused">
          {usage.checkpointsPaused}
        </p>
      )}
      {capped.map((session) => (
        <p key={session.sessionId} className="notice notice-warn" role="alert" data-testid="storage-cap-paused">
          <strong>{session.title ?? session.sessionId}</strong>: {session.capPaused}
        </p>
      ))}
      {usage?.dockerUnavailable != null && (
        <p className="notice notice-warn" role="note">
          Image and container sizes are missing: {usage.dockerUnavailable}
        </p>
      )}
      {usage === null ? (
        <p className="settings-hint">Measuring…</p>
      ) : (
        <dl className="storage-totals" data-testid="storage-totals">
          <dt>Free disk</dt>
          <dd>
            {formatBytes(usage.disk.freeBytes)} of {formatBytes(usage.disk.totalBytes)}
          </dd>
          <dt>Checkpoints</dt>
          <dd>
            {formatBytes(totals?.checkpointBytes ?? 0)}
            {(totals?.unreachableBytes ?? 0) > 0 && ` (${formatBytes(totals?.unreachableBytes ?? 0)} no session needs)`}
          </dd>
          <dt>Snapshot images</dt>
          <dd>{formatBytes(totals?.imageBytes ?? 0)}</dd>
          <dt>Containers</dt>
          <dd>{formatBytes(totals?.containerBytes ?? 0)}</dd>
          <dt>Package images</dt>
          <dd>
            {formatBytes(totals?.packageImageBytes ?? 0)} in {totals?.packageImages ?? 0} (shared by every Drover on this computer)
          </dd>
        </dl>
      )}
      <div className="settings-row">
        <button type="button" className="button" onClick={() => void reclaim()} disabled={busy || usage === null}>
          Reclaim unused storage
        </button>
        <span className="settings-hint">
          Removes checkpoints no session can reach and what deleted sessions left; never what a branch needs.
        </span>
      </div>
      {message !== null && (
        <p className={`notice ${message.tone === 'ok' ? 'notice-ok' : 'notice-error'}`} role={message.tone === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
      {usage !== null && usage.sessions.length > 0 && (
        <table className="credentials storage-sessions" data-testid="storage-sessions">
          <caption className="settings-hint">
            By session, largest first. Shared: checkpoint bytes other sessions use too (counted once in the totals).
          </caption>
          <ColumnHeads names={['Session / hand', 'Checkpoints', 'Shared', 'Images', 'Containers', 'Total']} />
          <tbody>
            {usage.sessions.flatMap((session) => [
              <tr key={session.sessionId}>
                <th scope="row">
                  {session.title ?? `Deleted session ${session.sessionId.slice(0, 8)}`}
                  {session.thinned.checkpoints > 0 && (
                    <span className="settings-hint">
                      {' '}
                      ({session.thinned.checkpoints} old {session.thinned.checkpoints === 1 ? 'checkpoint' : 'checkpoints'} thinned)
                    </span>
                  )}
                  {session.capPaused !== null && <span className="storage-at-cap"> (at its cap: checkpoints paused)</span>}
                </th>
                <td>{formatBytes(session.checkpointBytes)}</td>
                <td>{formatBytes(session.sharedBytes)}</td>
                <td>{formatBytes(session.imageBytes)}</td>
                <td>{formatBytes(session.containerBytes)}</td>
                <td>{formatBytes(session.totalBytes)}</td>
              </tr>,
              ...session.hands.map((hand) => (
                <tr key={`${session.sessionId}/${hand.hand}`} className="storage-hand">
                  <th scope="row">
                    <span className="visually-hidden">{session.title ?? session.sessionId}, hand </span>↳ {hand.hand} ({hand.checkpoints}{' '}
                    checkpoints)
                  </th>
                  <td>{formatBytes(hand.checkpointBytes)}</td>
                  <td />
                  <td>{formatBytes(hand.imageBytes)}</td>
                  <td>{formatBytes(hand.containerBytes)}</td>
                  <td>{formatBytes(hand.checkpointBytes + hand.imageBytes + hand.containerBytes)}</td>
                </tr>
              )),
            ])}
          </tbody>
        </table>
      )}
      {usage !== null && usage.packageImages.length > 0 && (
        <table className="credentials storage-packages" data-testid="storage-package-images">
          <caption className="settings-hint">
            Package images (hands with packages), largest first. "Reclaim" removes the ones no session or saved environment needs and no
            container uses; a hand that needs one again builds it again.
          </caption>
          <ColumnHeads names={['Image', 'Size', 'Status']} />
          <tbody>
            {usage.packageImages.map((image) => (
              <tr key={image.tag}>
                <th scope="row">{image.tag}</th>
                <td>{formatBytes(image.bytes)}</td>
                <td>
                  {image.inUse ? 'In use by a container' : image.needed ? 'Needed by a session or environment' : 'Unused: reclaimable'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="settings-row" onSubmit={(event) => void saveThreshold(event)}>
        <label htmlFor={`${id}-min-free`}>Pause checkpoints under</label>
        <input id={`${id}-min-free`} className="input" value={minFree} onChange={(event) => setMinFree(event.target.value)} />
        <label htmlFor={`${id}-percent`}>or % of the disk</label>
        <input
          id={`${id}-percent`}
          className="input"
          inputMode="decimal"
          value={percent}
          onChange={(event) => setPercent(event.target.value)}
        />
        <button type="submit" className="button" disabled={busy || usage === null}>
          Save threshold
        </button>
      </form>
      <StorageLimits transport={transport} usage={usage} busy={busy} setBusy={setBusy} show={show} say={setMessage} refresh={refresh} />
    </section>
  );
}

/** A table's header row: one column heading a name. */
function ColumnHeads({ names }: { names: readonly string[] }) {
  return (
    <thead>
      <tr>
        {names.map((name) => (
          <th key={name} scope="col">
            {name}
          </th>
        ))}
      </tr>
    </thead>
  );
}
