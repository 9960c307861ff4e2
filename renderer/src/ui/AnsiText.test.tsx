import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { AnsiText, ansiSegments } from './AnsiText.tsx';

const ESC = '\u001b';

function render(text: string): string {
  return renderToStaticMarkup(<AnsiText text={text} />);
}

describe('ansiSegments', () => {
  it('leaves plain text as one unstyled segment', () => {
    expect(ansiSegments('just text\nline two\ttab')).toEqual([{ text: 'just text\nline two\ttab', className: '' }]);
    expect(ansiSegments('')).toEqual([]);
  });

  it('maps the 16 colours to classes, foreground and background', () => {
    expect(ansiSegments(`${ESC}[31mred${ESC}[0m ${ESC}[92;44mbright green on blue${ESC}[0m`)).toEqual([
      { text: 'red', className: 'ansi-red-fg' },
      { text: ' ', className: '' },
      { text: 'bright green on blue', className: 'ansi-bright-green-fg ansi-blue-bg' },
    ]);
    // 38;5;N below 16 is a named colour too.
    expect(ansiSegments(`${ESC}[38;5;9mx`)).toEqual([{ text: 'x', className: 'ansi-bright-red-fg' }]);
  });

  it('maps bold, dim, italic and underline, and resets them', () => {
    expect(ansiSegments(`${ESC}[1mB${ESC}[2mD${ESC}[22;3mI${ESC}[23;4mU${ESC}[0m plain ${ESC}[1;1mB`)).toEqual([
      { text: 'B', className: 'ansi-bold' },
      { text: 'D', className: 'ansi-bold ansi-dim' },
      { text: 'I', className: 'ansi-italic' },
      { text: 'U', className: 'ansi-underline' },
      { text: ' plain ', className: '' },
      { text: 'B', className: 'ansi-bold' },
    ]);
  });

  it('resets colours with 0, an empty SGR, 39 and 49', () => {
    expect(ansiSegments(`${ESC}[32;41ma${ESC}[39mb${ESC}[49mc${ESC}[33md${ESC}[me`)).toEqual([
      { text: 'a', className: 'ansi-green-fg ansi-red-bg' },
      { text: 'b', className: 'ansi-red-bg' },
      { text: 'c', className: '' },
      { text: 'd', className: 'ansi-yellow-fg' },
      { text: 'e', className: '' },
    ]);
  });

  it('gives 256-colour and truecolor as rgb()', () => {
    expect(ansiSegments(`${ESC}[38;5;196mcube${ESC}[48;5;244mgrey${ESC}[0m`)).toEqual([
      { text: 'cube', className: '', color: 'rgb(255, 0, 0)' },
      { text: 'grey', className: '', color: 'rgb(255, 0, 0)', background: 'rgb(128, 128, 128)' },
    ]);
    expect(ansiSegments(`${ESC}[1;38;2;10;20;30mtrue${ESC}[48;2;255;128;0m bg`)).toEqual([
      { text: 'true', className: 'ansi-bold', color: 'rgb(10, 20, 30)' },
      { text: ' bg', className: 'ansi-bold', color: 'rgb(10, 20, 30)', background: 'rgb(255, 128, 0)' },
    ]);
  });

  it('merges runs whose style a code did not change', () => {
    expect(ansiSegments(`${ESC}[31ma${ESC}[31mb${ESC}[1m${ESC}[22mc`)).toEqual([{ text: 'abc', className: 'ansi-red-fg' }]);
  });

  it('drops cursor moves, erases, modes, titles, hyperlinks and charset switches', () => {
    const text =
      `${ESC}]0;npm test${ESC}\\${ESC}]2;title\u0007${ESC}[?25l${ESC}[2K${ESC}[1G${ESC}[3A` +
      `${ESC}(B${ESC}=${ESC}7${ESC}]8;;https://example.com${ESC}\\link${ESC}]8;;${ESC}\\ ${ESC}[32mok${ESC}[0m\u0007${ESC}[?25h`;
    expect(ansiSegments(text)).toEqual([
      { text: 'link ', className: '' },
      { text: 'ok', className: 'ansi-green-fg' },
    ]);
  });

  it('drops colon-form SGR, an unterminated OSC up to its line end, and a lone or cut-off ESC', () => {
    expect(ansiSegments(`a${ESC}[38:5:196mb`)).toEqual([{ text: 'ab', className: '' }]);
    expect(ansiSegments(`${ESC}]0;never ends\nnext`)).toEqual([{ text: '\nnext', className: '' }]);
    expect(ansiSegments(`x${ESC}`)).toEqual([{ text: 'x', className: '' }]);
    expect(ansiSegments(`x\b\u0000y`)).toEqual([{ text: 'xy', className: '' }]);
  });

  it('keeps only the last redraw of a line overwritten with \\r, and keeps \\r\\n line ends', () => {
    expect(ansiSegments('Downloading  10%\rDownloading  55%\rDownloading 100%\nDone\r\nNext\r\n')).toEqual([
      { text: 'Downloading 100%\nDone\nNext\n', className: '' },
    ]);
    // A trailing \r (the next redraw has not arrived yet) keeps the last one shown.
    expect(ansiSegments('50%\r')).toEqual([{ text: '50%', className: '' }]);
  });

  it('keeps a colour set before an overwriting \\r', () => {
    expect(ansiSegments(`${ESC}[32m[==   ]\r[=====]${ESC}[0m done`)).toEqual([
      { text: '[=====]', className: 'ansi-green-fg' },
      { text: ' done', className: '' },
    ]);
  });
});

describe('AnsiText', () => {
  it('renders plain text as it is', () => {
    expect(render('hello\nworld')).toBe('hello\nworld');
  });

  it('renders styled runs as spans with classes and inline rgb colours', () => {
    expect(render(`${ESC}[1;31mFAIL${ESC}[0m ${ESC}[38;2;1;2;3mx`)).toBe(
      '<span class="ansi-red-fg ansi-bold">FAIL</span> <span style="color:rgb(1, 2, 3)">x</span>',
    );
  });

  it('escapes HTML in the text', () => {
    const html = render(`<img src=x onerror=alert(1)> ${ESC}[31m<script>alert(1)</script>&amp;`);
    expect(html).not.toMatch(/<img|<script/);
    expect(html).toBe('&lt;img src=x onerror=alert(1)&gt; <span class="ansi-red-fg">&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;</span>');
  });
});
