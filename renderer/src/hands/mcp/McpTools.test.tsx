// The MCP tool list's "Changes files" marks (writing_tools) and the marked tools a server does not
// offer, rendered as the hands panel shows them.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { McpToolInfo } from '#shared/hands';
import { MarkedNotOffered, McpToolList, WRITES_NOTE } from './McpTools.tsx';

const tool = (name: string): McpToolInfo => ({
  name,
  exposedName: `fs__${name}`,
  title: null,
  description: `${name} does it`,
  enabled: true,
});

describe('McpToolList with marks', () => {
  it('has a "Changes files" checkbox per tool, checked for the marked ones, explained in its title', () => {
    const html = renderToStaticMarkup(
      <McpToolList
        tools={[tool('write_file'), tool('read_file')]}
        offered={() => true}
        onToggle={() => undefined}
        writes={(name) => name === 'write_file'}
        onWrites={() => undefined}
      />,
    );
    expect(html).toContain('<input type="checkbox" aria-label="write_file changes files" checked=""/>');
    expect(html).toContain('<input type="checkbox" aria-label="read_file changes files"/>');
    expect(html.split('Changes files</label>').length - 1).toBe(2);
    expect(html).toContain('after this tool runs, Drover checkpoints the files of this session’s hands');
    expect(WRITES_NOTE).toContain('Unmarked tools trigger no checkpoint');
  });

  it('has no marks where the caller gives none (the attach form’s test)', () => {
    expect(renderToStaticMarkup(<McpToolList tools={[tool('write_file')]} />)).not.toContain('changes files');
  });
});

describe('MarkedNotOffered', () => {
  it('names each marked tool the server does not offer, with an Unmark button; nothing when there is none', () => {
    const html = renderToStaticMarkup(<MarkedNotOffered names={['gone_tool']} onUnmark={() => undefined} />);
    expect(html).toContain('<code>gone_tool</code> is marked as changing files but the server does not offer it now');
    expect(html).toContain('aria-label="Unmark gone_tool"');
    expect(renderToStaticMarkup(<MarkedNotOffered names={[]} onUnmark={() => undefined} />)).toBe('');
  });
});
