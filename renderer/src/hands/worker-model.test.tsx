import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { WorkerStatusSchema, type WorkerStatus } from '#shared/workers';
import { heartbeatAge, needsRefresh, workerRowOf } from './worker-model.ts';
import { WorkerList } from './WorkerRows.tsx';

const NOW = Date.parse('2026-12-03T13:00:00.000Z');
const ready: WorkerStatus = WorkerStatusSchema.parse({
  work_id: 'work_0123456789abcdef0123456789abcdef',
  environment_id: 'env_01',
  worker_id: 'build-box-1',
  host: '10.0.0.7',
  state: 'ready',
  detail: 'Worker build-box-1 on 10.0.0.7 runs this session’s tools (lease 60 s, renewed by each heartbeat).',
  last_heartbeat: '2026-12-03T12:59:48.000Z',
  lease_expires_at: '2026-12-03T13:00:48.000Z',
  ttl_seconds: 60,
});

describe('the Hands panel’s self-hosted worker', () => {
  it('names the worker, its machine, its work item and how long ago it last heartbeated', () => {
    expect(workerRowOf(ready, NOW)).toEqual({
      name: 'build-box-1',
      state: 'ready',
      tone: 'ready',
      metas: ['self-hosted worker', 'on 10.0.0.7', 'work work_01234567…'],
      heartbeat: 'heartbeat 12 s ago',
      detail: ready.detail,
    });
    expect(workerRowOf({ ...ready, host: 'this computer' }, NOW).metas[1]).toBe('on this computer');
    expect(heartbeatAge('2026-12-03T12:59:59.500Z', NOW)).toBe('heartbeat just now');
    expect(heartbeatAge('2026-12-03T12:55:00.000Z', NOW)).toBe('heartbeat 5 min ago');
    expect(heartbeatAge(null, NOW)).toBe('no heartbeat yet');
  });

  it('shows a lost worker in the lost tone with no heartbeat, and one waiting for a worker', () => {
    const lost = workerRowOf(
      { ...ready, state: 'lost', last_heartbeat: null, lease_expires_at: null, detail: 'Worker build-box-1 stopped heartbeating' },
      NOW,
    );
    expect(lost).toMatchObject({ state: 'lost', tone: 'lost', heartbeat: '' });
    const waiting = workerRowOf({ ...ready, state: 'waiting', worker_id: null, host: null, last_heartbeat: null }, NOW);
    expect(waiting).toMatchObject({ name: 'no worker', tone: 'idle', metas: ['self-hosted worker', 'work work_01234567…'] });
    expect(needsRefresh([ready])).toBe(true);
    expect(needsRefresh([{ ...ready, state: 'stopped' }])).toBe(false);
    expect(needsRefresh([])).toBe(false);
  });

  it('renders a row per worker with its state, name, machine and heartbeat', () => {
    const html = renderToStaticMarkup(<WorkerList workers={[ready]} error={null} now={NOW} />);
    expect(html).toContain('aria-label="Worker build-box-1"');
    expect(html).toContain('hand-state-ready');
    expect(html).toContain('on 10.0.0.7');
    expect(html).toContain('heartbeat 12 s ago');
    expect(html).toContain('title="2026-12-03T12:59:48.000Z"');
  });
});
