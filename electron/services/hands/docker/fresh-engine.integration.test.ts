// A never-started Docker engine (its bridge network stores no gateway address), on real parts: a
// second dockerd in a network namespace of its own (test/support/second-engine.ts), the git test
// image loaded into it, and Drover — run in that namespace, where it is "this computer" for the
// engine — finding the bridge's address and bringing a git repository into a container there.
// The shared engine is not touched.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ensureGitImage, GIT_IMAGE, gitImageUnavailableReason, requireDocker } from '#test/support/docker';
import { gitServerUnavailableReason } from '#test/support/git-server';
import { secondEngineUnavailableReason, startSecondEngine, type SecondEngine } from '#test/support/second-engine';
import { requirePart } from '#test/support/system';
import { inSubnet } from './engine.ts';

const ready =
  (await requireDocker()) &&
  requirePart('a second Docker engine', secondEngineUnavailableReason()) &&
  requirePart('git (client and http-backend)', gitServerUnavailableReason() ?? gitImageUnavailableReason());
if (ready) ensureGitImage();

const root = path.resolve(import.meta.dirname, '../../../..');
const PRELOAD = ['--import', 'zod', '--import', 'better-sqlite3'];

const ChildResultSchema = z.object({
  gateway: z.string().nullable(),
  gatewayError: z.string().nullable(),
  isError: z.boolean(),
  text: z.string(),
  containers: z.number(),
});

let engine: SecondEngine | undefined;

beforeAll(async () => {
  if (!ready) return;
  engine = await startSecondEngine();
  engine.loadImages(GIT_IMAGE);
}, 120_000);

afterAll(async () => {
  await engine?.close();
}, 60_000);

/** Runs test/support/fresh-engine-child.ts in the engine's network namespace; its JSON line. */
function runChild(second: SecondEngine): Promise<z.infer<typeof ChildResultSchema>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'nsenter',
      [
        `--net=${second.netns}`,
        process.execPath,
        ...PRELOAD,
        '--import',
        'tsx',
        'test/support/fresh-engine-child.ts',
        second.socket,
        GIT_IMAGE,
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(ChildResultSchema.parse(JSON.parse(line)));
      } catch {
        reject(new Error(`the child exited with ${code ?? 'a signal'}: ${stdout}\n${stderr}`));
      }
    });
  });
}

describe.runIf(ready)('a never-started Docker engine', () => {
  it('stores no gateway for its bridge, yet Drover finds the bridge address and a git repository reaches a container there', async () => {
    const second = engine as SecondEngine;
    // The state a new machine's engine is in (else this test would prove nothing).
    const ipam = z
      .array(z.object({ Subnet: z.string(), Gateway: z.string().optional() }))
      .parse(JSON.parse(second.docker('network', 'inspect', 'bridge', '--format', '{{json .IPAM.Config}}')));
    expect(ipam).toEqual([{ Subnet: second.subnet }]);

    const result = await runChild(second);
    expect(result.gatewayError).toBeNull();
    expect(result.gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(inSubnet(result.gateway ?? '', second.subnet)).toBe(true);
    // The repository was cloned through the proxy on that address, and git in the container fetches through it.
    expect(result.isError).toBe(false);
    expect(result.text).toContain('# fresh\n');
    expect(result.text).toMatch(new RegExp(`http://${(result.gateway ?? '').replaceAll('.', '\\.')}:\\d+/[0-9a-f]{32}/\\n`));
    expect(result.text).toContain('fetched\n');
    expect(result.containers).toBe(0);
  }, 120_000);
});

describe('inSubnet', () => {
  it('places IPv4 addresses in CIDR subnets, and refuses what is not one', () => {
    expect(inSubnet('172.17.0.1', '172.17.0.0/16')).toBe(true);
    expect(inSubnet('10.213.0.1', '10.213.0.0/24')).toBe(true);
    expect(inSubnet('10.213.1.1', '10.213.0.0/24')).toBe(false);
    expect(inSubnet('172.18.0.1', '172.17.0.0/16')).toBe(false);
    expect(inSubnet('192.168.1.7', '0.0.0.0/0')).toBe(true);
    expect(inSubnet('fe80::1', '172.17.0.0/16')).toBe(false);
    expect(inSubnet('172.17.0.1', '172.17.0.0')).toBe(false);
  });
});
