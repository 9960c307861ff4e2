// Mapping MCP tool results into Drover outcomes: every content type, structured content, the
// error flag, and results that are not valid (a trust boundary).
import { describe, expect, it } from 'vitest';
import { ContentBlockSchema } from '#shared/events';
import { MAX_IMAGE_BYTES, mapCallToolResult } from './map-result.ts';

const PNG = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');

describe('mapCallToolResult', () => {
  it('maps text, images, audio, links and embedded resources', () => {
    const outcome = mapCallToolResult({
      content: [
        { type: 'text', text: 'hello', annotations: { audience: ['user'] } },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        { type: 'image', data: PNG, mimeType: 'image/svg+xml' },
        { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' },
        { type: 'resource_link', uri: 'file:///a.txt', name: 'a.txt', mimeType: 'text/plain', size: 12, description: 'a file' },
        { type: 'resource', resource: { uri: 'mem://note', mimeType: 'text/markdown', text: '# note' } },
        { type: 'resource', resource: { uri: 'mem://blob', mimeType: 'application/gzip', blob: 'AAAAAA==' } },
        { type: 'future-thing', payload: 1 },
      ],
    });
    expect(outcome.isError).toBe(false);
    expect(outcome.structuredContent).toBeUndefined();
    expect(outcome.content).toEqual([
      { type: 'text', text: 'hello' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'text', text: '[image (image/svg+xml, 8 bytes): not a type the model can view]' },
      { type: 'text', text: '[audio (audio/wav, 3 bytes): the model cannot hear audio]' },
      { type: 'text', text: '[resource link: file:///a.txt (a.txt, text/plain, 12 bytes)]\na file' },
      { type: 'text', text: '[resource mem://note (text/markdown)]\n# note' },
      { type: 'text', text: '[binary resource mem://blob (application/gzip, 4 bytes): not shown]' },
      { type: 'text', text: '[the MCP server returned a "future-thing" content item, which Drover cannot show]' },
    ]);
    for (const block of outcome.content) expect(ContentBlockSchema.safeParse(block).success).toBe(true);
  });

  it('passes structured content through and keeps the error flag', () => {
    const outcome = mapCallToolResult({ content: [{ type: 'text', text: 'bad' }], structuredContent: { a: [1, 2] }, isError: true });
    expect(outcome).toEqual({ content: [{ type: 'text', text: 'bad' }], structuredContent: { a: [1, 2] }, isError: true });
  });

  it('notes images it cannot pass on: bad base64, too large', () => {
    const bad = mapCallToolResult({ content: [{ type: 'image', data: 'not base64!', mimeType: 'image/png' }] });
    expect(bad.content).toEqual([{ type: 'text', text: '[image (image/png): its data is not valid base64]' }]);
    const big = mapCallToolResult({
      content: [{ type: 'image', data: 'A'.repeat(4 * Math.ceil(MAX_IMAGE_BYTES / 3) + 8), mimeType: 'image/jpeg' }],
    });
    expect(big.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/larger than the model accepts/) });
  });

  it('turns an invalid result into an error outcome', () => {
    for (const raw of [
      null,
      'text',
      { content: 'not an array' },
      { content: [{ type: 'text' }] },
      { content: [], structuredContent: [1] },
      { content: [], isError: 'yes' },
    ]) {
      const outcome = mapCallToolResult(raw);
      expect(outcome.isError).toBe(true);
      expect(outcome.content[0]).toMatchObject({
        type: 'text',
        text: expect.stringMatching(/^The MCP server answered something that is not a valid tool result/),
      });
    }
  });

  it('treats a missing content list as empty', () => {
    expect(mapCallToolResult({})).toEqual({ content: [], isError: false });
  });
});
