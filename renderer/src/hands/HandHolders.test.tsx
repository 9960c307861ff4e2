import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { HandHolder } from '#shared/hands';
import { HandHolders, holderLine } from './HandHolders.tsx';

const shared: HandHolder = { session_thread_id: 'sthr_tester0001', agent_name: 'tester', mode: 'shared', copy: null };
const fresh: HandHolder = {
  session_thread_id: 'sthr_a1b2c3d4e5',
  agent_name: 'builder',
  mode: 'fresh',
  copy: { name: 'box~a1b2c3d4', state: 'ready', detail: 'Running 0123456789abcdef.', container: '0123456789abcdef' },
};

describe('the Hands panel’s thread holders', () => {
  it('says who holds the hand and how, and names a copy with its state and container', () => {
    expect(holderLine('box', shared)).toEqual({ name: 'box', text: "shared with thread 'tester'", state: null, container: null });
    expect(holderLine('box', fresh)).toEqual({
      name: 'box~a1b2c3d4',
      text: "fresh copy for 'builder'",
      state: 'ready',
      container: '0123456789ab',
    });
    expect(holderLine('docs', { ...shared, mode: 'read_only', agent_name: null }).text).toBe("read-only for 'sthr_tester0001'");
    expect(holderLine('box', { ...fresh, mode: 'read_only' }).text).toBe("read-only copy for 'builder'");
  });

  it('renders one line per holder, nothing when no thread holds the hand', () => {
    const html = renderToStaticMarkup(<HandHolders hand="box" holders={[shared, fresh]} />);
    expect(html).toContain('aria-label="Threads holding box"');
    expect(html).toContain('box</span> — shared with thread &#x27;tester&#x27;');
    expect(html).toContain('box~a1b2c3d4</span> — fresh copy for &#x27;builder&#x27;');
    expect(renderToStaticMarkup(<HandHolders hand="box" holders={undefined} />)).toBe('');
  });
});
