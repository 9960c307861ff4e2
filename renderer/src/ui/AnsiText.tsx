/**
 * Terminal output (a tool's stdout/stderr, kept verbatim in the log) shown with its colours.
 *
 * Only SGR codes (colour, bold, dim, italic, underline, …) are drawn, as class names or an
 * inline rgb() colour on React <span>s; every other escape sequence (cursor moves, window
 * titles, links, character sets) is dropped rather than shown as garbage. The text is never
 * set as HTML. Put it inside an element with class `terminal` (see markdown.css), e.g.
 * `<pre className="terminal"><AnsiText text={output} /></pre>`.
 */
import { memo, useMemo, type CSSProperties } from 'react';
import Anser from 'anser';
import { SGR_ALL, withoutNonSgrCodes } from './ansi.ts';

/** A run of text with one style. */
export interface AnsiSegment {
  text: string;
  /** Space-separated classes (`ansi-red-fg`, `ansi-bright-green-bg`, `ansi-bold`, …); '' when plain. */
  className: string;
  /** 256-colour and truecolor foreground, as CSS `rgb(…)`. */
  color?: string;
  /** 256-colour and truecolor background, as CSS `rgb(…)`. */
  background?: string;
}

export const AnsiText = memo(function AnsiText({ text }: { text: string }) {
  const segments = useMemo(() => ansiSegments(text), [text]);
  return (
    <>
      {segments.map((segment, index) =>
        segment.className === '' && segment.color === undefined && segment.background === undefined ? (
          segment.text
        ) : (
          <span key={index} className={segment.className || undefined} style={styleOf(segment)}>
            {segment.text}
          </span>
        ),
      )}
    </>
  );
});

function styleOf(segment: AnsiSegment): CSSProperties | undefined {
  if (segment.color === undefined && segment.background === undefined) return undefined;
  return { color: segment.color, backgroundColor: segment.background };
}

/** The text split into styled runs, after dropping non-SGR escapes and overwritten `\r` text. */
export function ansiSegments(text: string): AnsiSegment[] {
  const cleaned = applyCarriageReturns(withoutNonSgrCodes(text));
  if (!cleaned.includes('\u001b')) return cleaned === '' ? [] : [{ text: cleaned, className: '' }];

  const segments: AnsiSegment[] = [];
  for (const entry of Anser.ansiToJson(cleaned, { use_classes: true, remove_empty: true })) {
    const segment = segmentOf(entry);
    const previous = segments.at(-1);
    // Anser starts a new entry at every SGR code, even one that changes nothing.
    if (
      previous !== undefined &&
      previous.className === segment.className &&
      previous.color === segment.color &&
      previous.background === segment.background
    ) {
      previous.text += segment.text;
    } else {
      segments.push(segment);
    }
  }
  return segments;
}

const DECORATIONS = new Set(['bold', 'dim', 'italic', 'underline', 'hidden', 'strikethrough']);

function segmentOf(entry: Anser.AnserJsonEntry): AnsiSegment {
  const classes: string[] = [];
  const segment: AnsiSegment = { text: entry.content, className: '' };
  // Anser's typings say string, but a default colour is null.
  const fg: string | null = entry.fg;
  const bg: string | null = entry.bg;
  if (fg) {
    const rgb = colourOf(fg, entry.fg_truecolor);
    if (rgb === null) classes.push(`${fg}-fg`);
    else segment.color = rgb;
  }
  if (bg) {
    const rgb = colourOf(bg, entry.bg_truecolor);
    if (rgb === null) classes.push(`${bg}-bg`);
    else segment.background = rgb;
  }
  // Anser has already applied "reverse" by swapping the colours; blink is left out on purpose.
  for (const decoration of new Set(entry.decorations)) {
    if (DECORATIONS.has(decoration)) classes.push(`ansi-${decoration}`);
  }
  segment.className = classes.join(' ');
  return segment;
}

/**
 * CSS rgb() for a 256-colour (`ansi-palette-N`, N ≥ 16) or truecolor entry; null for the 16
 * named colours, which content.css styles by class so that each theme can tune them.
 */
function colourOf(name: string, truecolor: string | null): string | null {
  if (name === 'ansi-truecolor') return truecolor ? `rgb(${truecolor})` : null;
  if (!name.startsWith('ansi-palette-')) return null;
  const index = Number(name.slice('ansi-palette-'.length));
  return Number.isInteger(index) && index >= 16 && index <= 255 ? paletteRgb(index) : null;
}

const CUBE_LEVELS = [0, 95, 135, 175, 215, 255];

/** The xterm 256-colour palette beyond the 16 named colours: a 6×6×6 cube, then 24 greys. */
function paletteRgb(index: number): string {
  if (index >= 232) {
    const level = 8 + (index - 232) * 10;
    return `rgb(${level}, ${level}, ${level})`;
  }
  const cube = index - 16;
  const r = CUBE_LEVELS[Math.floor(cube / 36)] ?? 0;
  const g = CUBE_LEVELS[Math.floor(cube / 6) % 6] ?? 0;
  const b = CUBE_LEVELS[cube % 6] ?? 0;
  return `rgb(${r}, ${g}, ${b})`;
}

/**
 * A progress bar redraws its line after a `\r`: keep only what follows the line's last `\r`
 * (a `\r\n` line end is just a line end), but keep the colour codes of the overwritten part
 * so that a colour set before the `\r` still applies after it.
 */
function applyCarriageReturns(text: string): string {
  if (!text.includes('\r')) return text;
  return text
    .split('\n')
    .map((line) => {
      const trimmed = line.replace(/\r+$/, '');
      const last = trimmed.lastIndexOf('\r');
      if (last === -1) return trimmed;
      const codes = trimmed.slice(0, last).match(SGR_ALL) ?? [];
      return codes.join('') + trimmed.slice(last + 1);
    })
    .join('\n');
}
