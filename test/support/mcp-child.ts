/**
 * A tiny real MCP server over stdio for the MCP client tests, run with `node --import tsx`.
 * Tools: `sleep` (waits `ms`, ending early when cancelled, and records that it was),
 * `crash` (writes to stderr, then exits mid-call), `env` (returns an environment variable and
 * writes it to stderr), `add-tool` (registers `late` after start, which sends
 * notifications/tools/list_changed), `cancelled` (how many sleeps were cancelled), `notes.read` (a
 * name the Messages API refuses, so Drover offers it under another: returns "notes").
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'drover-fixture', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
let cancelledSleeps = 0;

server.registerTool('sleep', { description: 'Waits ms milliseconds.', inputSchema: { ms: z.number() } }, async ({ ms }, extra) => {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    extra.signal.addEventListener('abort', () => {
      cancelledSleeps++;
      clearTimeout(timer);
      resolve();
    });
  });
  return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
});

server.registerTool('cancelled', { description: 'How many sleeps were cancelled.' }, () => ({
  content: [{ type: 'text', text: String(cancelledSleeps) }],
}));

server.registerTool('crash', { description: 'Exits mid-call.' }, async () => {
  process.stderr.write('fixture: about to crash (boom)\n');
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.exit(1);
});

server.registerTool('env', { description: 'Returns an environment variable.', inputSchema: { name: z.string() } }, ({ name }) => {
  process.stderr.write(`fixture: ${name}=${process.env[name] ?? ''}\n`);
  const value = process.env[name] ?? null;
  return {
    content: [{ type: 'text', text: JSON.stringify({ value, length: value?.length ?? 0, keys: Object.keys(process.env).sort() }) }],
  };
});

server.registerTool('notes.read', { description: 'Returns "notes".' }, () => ({ content: [{ type: 'text', text: 'notes' }] }));

server.registerTool('add-tool', { description: 'Registers the tool "late".' }, () => {
  server.registerTool('late', { description: 'Registered after start.' }, () => ({ content: [{ type: 'text', text: 'late' }] }));
  return { content: [{ type: 'text', text: 'added' }] };
});

await server.connect(new StdioServerTransport());
