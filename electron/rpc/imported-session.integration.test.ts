// An imported session is someone else's file: untrusted input, end to end through the RPC a UI
// uses, the real harness and the local Messages API server. Its hands (an MCP stdio command, an MCP
// URL, a Docker image with a host folder mounted, an SSH machine) arrive off and run nothing — not
// even when the model asks for their tools — until the user has reviewed and approved each; the
// approval is in the log, so forks inherit it. Its events go through the vault's redactor, and it
// is held to live input's limits (message size, title characters), with duplicate ids refused.
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { HandSpecSchema, type HandSpecInput, type HandStatus } from '#shared/hands';
import { AppInfoSchema } from '#shared/rpc';
import { SessionSummarySchema, type SessionSummary } from '#shared/sessions';
import type { Host } from '#rpc/host';
import type { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE } from '#test/support/docker';
import { vaultHostRig, type VaultHostRig } from '#test/support/host-rig';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { folderBytes, tempDir } from '#test/support/system';

const API_KEY = 'sk-ant-test-imported-session';
const CANARY = 'imported-canary-5f0e9d3c7b1a2468';

let dir: string;
let outside: string;
let rig: VaultHostRig | undefined;
let store: SessionStore;
let host: Host;
let model: ModelServer;
let script: Array<(request: RecordedRequest) => Reply> = [];

const done: Reply = { kind: 'message', message: { content: [{ type: 'text', text: 'Done.' }], stop_reason: 'end_turn' } };
function toolUse(name: string, input: Record<string, unknown>): Reply {
  return { kind: 'message', message: { content: [{ type: 'tool_use', name, input }], stop_reason: 'tool_use' } };
}

beforeAll(async () => {
  outside = tempDir('drover-import-outside-');
  model = await startModelServer({ apiKey: API_KEY, respond: (request) => (script.shift() ?? (() => done))(request) });
  rig = vaultHostRig('drover-import-', { baseURL: model.url, apiKey: API_KEY });
  ({ dir, store, host } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
  await model?.close();
  if (outside !== undefined) rmSync(outside, { recursive: true, force: true });
});

async function call<T = unknown>(name: string, arg?: unknown): Promise<T> {
  const outcome = await host.dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
  return outcome.result as T;
}

async function refused(name: string, arg?: unknown): Promise<string> {
  const outcome = await host.dispatch(name, arg);
  if (outcome.ok) throw new Error(`${name} was expected to be refused`);
  return outcome.error.message;
}

async function send(sessionId: string, text: string): Promise<void> {
  const before = store.getEvents(sessionId, { types: ['session.status_idle'] }).length;
  await call('sessions-send', { sessionId, text });
  const deadline = Date.now() + 60_000;
  while (store.getEvents(sessionId, { types: ['session.status_idle'] }).length === before) {
    if (Date.now() > deadline) throw new Error('the turn did not end');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function importFile(jsonl: string): Promise<SessionSummary> {
  return SessionSummarySchema.parse(await call('sessions-import', { jsonl }));
}

type Draft = { type: StoredEvent['type']; payload: unknown; id?: string };

/** An export file as anyone could write it: header, then the events (ids fresh unless given). */
function exportFile(title: string, events: readonly Draft[]): string {
  const header = {
    drover_session_export: 1,
    session: { id: randomUUID(), title, created_at: new Date().toISOString(), parent_id: null, fork_seq: null },
    event_count: events.length,
  };
  const lines = events.map((event, index) =>
    JSON.stringify({
      seq: index + 1,
      id: event.id ?? randomUUID(),
      ts: new Date().toISOString(),
      type: event.type,
      payload: event.payload,
    }),
  );
  return `${[JSON.stringify(header), ...lines].join('\n')}\n`;
}

function attached(hand: HandSpecInput): Draft {
  const spec = HandSpecSchema.parse(hand);
  return { type: 'hand.attached', payload: { hand_id: spec.name, config: spec.config } };
}

function message(text: string): Draft {
  return { type: 'user.message', payload: { content: [{ type: 'text', text }] } };
}

function toolNames(request: RecordedRequest | undefined): string[] {
  return (request?.body.tools ?? []).map((tool) => String((tool as { name: unknown }).name));
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

describe('an imported session is untrusted input', () => {
  it('runs an imported MCP command only after the user reviewed and approved it; the approval is in the log and forks inherit it', async () => {
    const marker = path.join(outside, 'MARKER');
    const evil: HandSpecInput = {
      name: 'evil',
      config: { kind: 'mcp', transport: { type: 'stdio', command: '/bin/sh', args: ['-c', `touch ${marker}`] } },
    };
    const outcome = {
      description: 'it works',
      rubric: '',
      max_iterations: 1,
      grader_model: null,
      verification: { hand_id: 'evil', command: 'make check' },
    };
    const imported = await importFile(
      exportFile('Trial', [attached(evil), { type: 'user.define_outcome', payload: outcome }, message('hello')]),
    );

    script = [() => toolUse('evil__run', {}), () => done];
    const before = model.requests.length;
    await send(imported.id, 'Use your tools.');
    expect(existsSync(marker)).toBe(false);
    expect(imported.importedSeq).toBe(3);

    // The hands panel shows it for review: what it would run, and that it is off.
    const [pending] = await call<HandStatus[]>('hands-list', { sessionId: imported.id });
    expect(pending).toMatchObject({ name: 'evil', review: 'pending', attachedSeq: 1, tools: [], state: 'idle' });
    expect(pending?.config).toMatchObject({ transport: { command: '/bin/sh', args: ['-c', `touch ${marker}`] } });
    // An imported outcome's verification command would run on it too: the review says so.
    expect(pending?.detail).toContain('the imported outcome also runs `make check` on it');
    for (const request of model.requests.slice(before)) expect(toolNames(request).filter((name) => name.startsWith('evil__'))).toEqual([]);
    expect(store.getEvents(imported.id, { types: ['hand.provisioning', 'hand.ready', 'hand.failed'] })).toEqual([]);

    // Nothing else starts it either: its tool list, or a change made without reviewing it.
    expect(await refused('hands-mcp-info', { sessionId: imported.id, name: 'evil' })).toMatch(/imported file.*review/);
    expect(await refused('hands-update', { sessionId: imported.id, hand: evil })).toMatch(/imported file.*review/);
    expect(existsSync(marker)).toBe(false);

    const forkedBefore = SessionSummarySchema.parse(await call('sessions-fork', { sessionId: imported.id, atSeq: imported.lastSeq }));
    expect(forkedBefore.importedSeq).toBe(3);

    // Approval names what was shown: a stale view approves nothing.
    expect(await refused('hands-approve', { sessionId: imported.id, name: 'evil', attachedSeq: 2 })).toMatch(/changed since it was shown/);
    const approved = await call<HandStatus[]>('hands-approve', { sessionId: imported.id, name: 'evil', attachedSeq: 1 });
    expect(approved[0]?.review).toBeUndefined();
    expect(approved[0]?.attachedSeq).toBeGreaterThan(imported.lastSeq);
    const log = store.getEvents(imported.id, { types: ['hand.detached', 'hand.attached'] }).map((event) => `${event.seq} ${event.type}`);
    expect(log.slice(-2)).toEqual([
      `${(approved[0]?.attachedSeq ?? 0) - 1} hand.detached`,
      `${approved[0]?.attachedSeq ?? 0} hand.attached`,
    ]);

    script = [() => toolUse('evil__run', {}), () => done];
    await send(imported.id, 'Now use it.');
    expect(await waitFor(() => existsSync(marker), 10_000)).toBe(true);

    const last = SessionSummarySchema.parse(await call('sessions-get', { sessionId: imported.id }));
    const forkedAfter = SessionSummarySchema.parse(await call('sessions-fork', { sessionId: imported.id, atSeq: last.lastSeq }));
    expect((await call<HandStatus[]>('hands-list', { sessionId: forkedAfter.id }))[0]?.review).toBeUndefined();
    expect((await call<HandStatus[]>('hands-list', { sessionId: forkedBefore.id }))[0]?.review).toBe('pending');
  }, 120_000);

  it('keeps every kind of imported hand off: a Docker image with a host folder mounted, an SSH machine, an MCP URL', async () => {
    const hostFolder = tempDir('drover-import-mount-');
    let sshConnections = 0;
    const sshServer: NetServer = createNetServer((socket) => {
      sshConnections++;
      socket.destroy();
    });
    let httpRequests = 0;
    const httpServer: Server = createHttpServer((_request, response) => {
      httpRequests++;
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => sshServer.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const port = (server: NetServer | Server): number => {
      const address = server.address();
      return typeof address === 'object' && address !== null ? address.port : 0;
    };
    try {
      const imported = await importFile(
        exportFile('Sweep', [
          attached({
            name: 'box',
            config: {
              kind: 'docker',
              image: BUSYBOX_IMAGE,
              mounts: [{ host_path: hostFolder, container_path: '/host', read_only: false }],
            },
          }),
          attached({
            name: 'mac',
            config: { kind: 'ssh', host: '127.0.0.1', port: port(sshServer), user: 'ada', auth: { method: 'agent' } },
          }),
          attached({ name: 'web', config: { kind: 'mcp', transport: { type: 'http', url: `http://127.0.0.1:${port(httpServer)}/mcp` } } }),
        ]),
      );
      script = [
        () => toolUse('box__bash', { command: 'touch /host/MARKER' }),
        () => toolUse('mac__bash', { command: 'id' }),
        () => toolUse('web__anything', {}),
        () => done,
      ];
      const before = model.requests.length;
      await send(imported.id, 'Use every hand.');
      expect(existsSync(path.join(hostFolder, 'MARKER'))).toBe(false);
      expect({ sshConnections, httpRequests }).toEqual({ sshConnections: 0, httpRequests: 0 });
      for (const request of model.requests.slice(before)) expect(toolNames(request)).toEqual([]);
      expect(store.getEvents(imported.id, { types: ['hand.provisioning', 'hand.ready', 'hand.failed', 'hand.lost'] })).toEqual([]);
      const results = store.getEvents(imported.id, { types: ['agent.tool_result', 'agent.mcp_tool_result'] });
      expect(results.length).toBeGreaterThan(0);

      const statuses = await call<HandStatus[]>('hands-list', { sessionId: imported.id });
      expect(statuses.map((status) => `${status.name} ${status.review ?? 'on'}`)).toEqual(['box pending', 'mac pending', 'web pending']);
      expect(statuses[0]?.config).toMatchObject({ image: BUSYBOX_IMAGE, mounts: [{ host_path: hostFolder }] });
    } finally {
      await new Promise((resolve) => sshServer.close(resolve));
      await new Promise((resolve) => httpServer.close(resolve));
      rmSync(hostFolder, { recursive: true, force: true });
    }
  }, 120_000);

  it('never starts an approved hand from a snapshot the file names: the image reviewed is the image run', async () => {
    const box = attached({ name: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE } });
    const snapshot: Draft = {
      type: 'hand.snapshot',
      payload: { hand_id: 'box', at_seq: 999_999, image: 'someone/backdoor:1', bytes: 1, duration_ms: 1 },
    };
    const imported = await importFile(exportFile('Snap', [box, snapshot]));
    const [approved] = await call<HandStatus[]>('hands-approve', { sessionId: imported.id, name: 'box', attachedSeq: 1 });
    expect(await host.hands.restoreSource(imported.id, 'box', approved?.attachedSeq ?? 0)).toBeNull();
    const fork = SessionSummarySchema.parse(await call('sessions-fork', { sessionId: imported.id, atSeq: imported.lastSeq + 2 }));
    expect(await host.hands.restoreSource(fork.id, 'box', approved?.attachedSeq ?? 0)).toBeNull();
  });

  it('redacts stored vault secrets in imported events, as it does live input', async () => {
    await call('secrets-create', { name: 'deploy token', kind: 'token', value: CANARY });
    const imported = await importFile(
      exportFile('Leaky', [
        message(`deploy with ${CANARY} please`),
        { type: 'agent.message', payload: { content: [{ type: 'text', text: `ok: ${encodeURIComponent(CANARY)}` }] } },
      ]),
    );
    const text = JSON.stringify(store.getEvents(imported.id, {}));
    expect(text).not.toContain(CANARY);
    expect(text).toContain('[secret “deploy token” redacted]');
    expect(folderBytes(dir).includes(CANARY)).toBe(false);
  });

  it('holds imports to live input’s limits, refuses duplicate event ids, and records nothing when it refuses', async () => {
    const sessionsBefore = (await call<SessionSummary[]>('sessions-list')).length;
    const huge = await refused('sessions-import', { jsonl: exportFile('Huge', [message('x'.repeat(20 * 1024 * 1024))]) });
    expect(huge).toMatch(/line 2 .*at most 1,000,000 characters.*Nothing was imported/);

    const id = randomUUID();
    const duplicated = await refused('sessions-import', {
      jsonl: exportFile('Twins', [
        { ...message('one'), id },
        { ...message('two'), id },
      ]),
    });
    expect(duplicated).toMatch(new RegExp(`line 3 repeats the event id ${id} of line 2.*Nothing was imported`));

    const badName = {
      type: 'hand.attached' as const,
      payload: { hand_id: 'a__b\u001b', config: HandSpecSchema.parse({ name: 'x', config: { kind: 'docker', image: 'busybox' } }).config },
    };
    expect(await refused('sessions-import', { jsonl: exportFile('Names', [badName]) })).toMatch(
      /line 2 names a hand .* that Drover would not accept.*Nothing was imported/,
    );

    for (const title of ['ring\u0007bell', 'escape\u001b[31m', 'evil\u202Etxt.exe']) {
      expect(await refused('sessions-import', { jsonl: exportFile(title, [message('hi')]) })).toMatch(
        /line 1 .*control characters or text-direction overrides.*Nothing was imported/,
      );
      expect(await refused('sessions-create', { title })).toMatch(/control characters or text-direction overrides/);
    }
    expect((await call<SessionSummary[]>('sessions-list')).length).toBe(sessionsBefore);

    const fine = await importFile(exportFile('Fine', [message('x'.repeat(1_000_000))]));
    expect(fine.importedSeq).toBe(1);
    expect((await call<SessionSummary[]>('sessions-list')).find((session) => session.id === fine.id)?.importedSeq).toBe(1);
    const created = SessionSummarySchema.parse(await call('sessions-create', { title: 'Mine' }));
    expect(created.importedSeq).toBeUndefined();
  }, 60_000);

  it('says in the app info when the data folder can be read by others', async () => {
    expect(AppInfoSchema.parse(await call('app-info')).dataDirWarning).toBeUndefined();
    chmodSync(dir, 0o755);
    try {
      expect(AppInfoSchema.parse(await call('app-info')).dataDirWarning).toContain(`chmod 700 '${dir}'`);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});
