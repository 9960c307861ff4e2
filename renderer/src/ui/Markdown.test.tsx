import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { closeOpenFence, Markdown, safeLinkUrl, splitBlocks } from './Markdown.tsx';

function render(text: string, streaming?: boolean): string {
  return renderToStaticMarkup(<Markdown text={text} streaming={streaming} />);
}

describe('Markdown', () => {
  it('renders headings, lists, emphasis and inline code', () => {
    const html = render('# Title\n\n## Part\n\n- one\n- **two**\n\n1. first\n2. second\n\nUse `npm test`.');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<h2>Part</h2>');
    expect(html).toMatch(/<ul>\s*<li>one<\/li>\s*<li><strong>two<\/strong><\/li>\s*<\/ul>/);
    expect(html).toMatch(/<ol>\s*<li>first<\/li>\s*<li>second<\/li>\s*<\/ol>/);
    expect(html).toContain('<code>npm test</code>');
  });

  it('renders GFM tables inside a scrolling wrapper, and task lists', () => {
    const html = render('| Name | Size |\n| --- | ---: |\n| a.txt | 12 |\n\n- [x] done\n- [ ] todo');
    expect(html).toContain('<div class="md-table"><table>');
    expect(html).toContain('<th>Name</th>');
    expect(html).toMatch(/<td style="text-align:right">12<\/td>/);
    expect(html).toContain('type="checkbox"');
  });

  it('highlights a fenced block and labels it with its language and a Copy button', () => {
    const html = render('```ts\nconst answer: number = 42;\n```');
    expect(html).toContain('<span class="md-code-language">ts</span>');
    expect(html).toContain('>Copy</button>');
    expect(html).toContain('class="hljs language-ts"');
    expect(html).toContain('<span class="hljs-keyword">const</span>');
    expect(html).toContain('<span class="hljs-number">42</span>');
  });

  it('knows the common aliases and leaves unknown or plain languages unhighlighted', () => {
    expect(render('```sh\necho hi\n```')).toContain('hljs-built_in');
    expect(render('```toml\n[a]\nb = 1\n```')).toContain('hljs-section');
    const unknown = render('```brainfuck\n+++.\n```');
    expect(unknown).toContain('<span class="md-code-language">brainfuck</span>');
    expect(unknown).not.toContain('hljs-');
    const untagged = render('```\nconst x = 1;\n```');
    expect(untagged).toContain('<span class="md-code-language">text</span>');
    expect(untagged).not.toContain('hljs');
    expect(render('```text\nconst x = 1;\n```')).not.toContain('hljs');
  });

  it('shows raw HTML as text, never as elements', () => {
    const html = render('<script>alert(1)</script>\n\nHi <img src=x onerror="alert(1)"> there <b>bold</b>');
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
  });

  it('links only https URLs (all the main process opens), to a new window without a referrer', () => {
    const html = render('[site](https://example.com/a?b=1) [mail](mailto:me@example.com) [plain](http://example.org)');
    expect(html).toContain('<a href="https://example.com/a?b=1" target="_blank" rel="noreferrer noopener"');
    expect(html).toContain('<span class="md-link-blocked">mail</span>');
    expect(html).toContain('<span class="md-link-blocked">plain</span>');
  });

  it('renders javascript:, data: and relative links as text', () => {
    const html = render('[x](javascript:alert(1)) [y](data:text/html,hi) [z](./local.md) [w](JaVaScRiPt:alert(1))');
    expect(html).not.toContain('<a');
    expect(html).not.toContain('href');
    expect(html).toContain('<span class="md-link-blocked">x</span>');
    expect(safeLinkUrl('javascript:alert(1)')).toBeNull();
    expect(safeLinkUrl('/relative')).toBeNull();
    expect(safeLinkUrl('not a url')).toBeNull();
    expect(safeLinkUrl('https://example.com')).toBe('https://example.com/');
  });

  it('shows an image as its alt text and URL, never loading it', () => {
    const html = render('![a chart](https://tracker.example.com/pixel.png)');
    expect(html).not.toContain('<img');
    expect(html).toContain('[image: a chart] https://tracker.example.com/pixel.png');
  });

  it('renders an unclosed fence as code while streaming, with a caret only while streaming', () => {
    const streaming = render('Here:\n\n```python\nprint("hi")', true);
    expect(streaming).toContain('<pre><code class="hljs language-python">');
    expect(streaming).toContain('<span class="md-caret" aria-hidden="true"></span>');
    // The caret sits on the line being written, not below it.
    expect(streaming).toMatch(/<span class="md-caret" aria-hidden="true"><\/span>(<\/span>)*\n<\/code>/);

    const done = render('Here:\n\n```python\nprint("hi")\n```');
    expect(done).not.toContain('md-caret');
  });

  it('puts the caret at the end of the last paragraph', () => {
    expect(render('First.\n\nSecond **part**', true)).toMatch(
      /<p>Second <strong>part<span class="md-caret" aria-hidden="true"><\/span><\/strong><\/p><\/div>$/,
    );
    expect(render('', true)).toBe('<div class="markdown"><span class="md-caret" aria-hidden="true"></span></div>');
  });

  it('renders the same whether cut into blocks or not', () => {
    const text = 'Intro.\n\n- a\n\n- b\n\n  more of b\n\n```js\nlet a;\n\nlet b;\n```\n\n    indented\n\n    code\n\n> quote\n\nEnd.';
    // A definition keeps the text whole; hast's "\n" text between blocks is not rendered.
    const whole = render(`${text}\n\n[unused]: https://example.com`);
    const withoutBlockGaps = (html: string) => html.replaceAll('>\n<', '><');
    expect(withoutBlockGaps(render(text))).toBe(withoutBlockGaps(whole));
  });
});

describe('splitBlocks', () => {
  it('cuts at blank lines between top-level blocks', () => {
    expect(splitBlocks('# A\n\nPara\none\n\n\nPara two\n')).toEqual(['# A', 'Para\none', 'Para two\n']);
  });

  it('does not cut inside a fence, before an indented line or before a list item', () => {
    expect(splitBlocks('```\na\n\nb\n```\n\nc')).toEqual(['```\na\n\nb\n```', 'c']);
    expect(splitBlocks('- a\n\n  b\n\n- c\n\n1. d\n\ne')).toEqual(['- a\n\n  b\n\n- c\n\n1. d', 'e']);
    expect(splitBlocks('~~~\n```\n\nx\n~~~\n\ny')).toEqual(['~~~\n```\n\nx\n~~~', 'y']);
  });

  it('keeps text with a link reference or footnote definition whole', () => {
    const text = 'See [docs][d] and this[^1].\n\nMore.\n\n[d]: https://example.com\n[^1]: A note.';
    expect(splitBlocks(text)).toEqual([text]);
  });
});

describe('closeOpenFence', () => {
  it('closes an open fence with its own marker and indent, and leaves closed ones alone', () => {
    expect(closeOpenFence('```ts\nlet a')).toBe('```ts\nlet a\n```');
    expect(closeOpenFence('1. step\n   ````sh\n   ls\n')).toBe('1. step\n   ````sh\n   ls\n   ````');
    expect(closeOpenFence('~~~\n```\n')).toBe('~~~\n```\n~~~');
    expect(closeOpenFence('```\na\n```\ntext')).toBe('```\na\n```\ntext');
    // A backtick fence's info string cannot hold a backtick: this is an inline code span.
    expect(closeOpenFence('```a``` here')).toBe('```a``` here');
  });
});
