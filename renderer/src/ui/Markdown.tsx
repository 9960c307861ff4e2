/**
 * Markdown a model wrote (agent messages, possibly still streaming), shown as GitHub-flavoured
 * markdown with highlighted code blocks.
 *
 * The text is untrusted. It must never become live HTML (no rehype-raw: raw HTML in the text
 * is shown as text), never make the app fetch anything (images are shown as their alt text
 * and URL, not loaded), and never link anywhere but an http(s) or mailto URL that parses.
 */
// Types the stylesheet import below (Vite bundles it with the component).
import { memo, useEffect, useMemo, useRef, useState, type ComponentProps } from 'react';
import ReactMarkdown, { type Components, type ExtraProps, type Options as MarkdownOptions } from 'react-markdown';
import rehypeHighlight, { type Options as HighlightOptions } from 'rehype-highlight';
import remarkGfm from 'remark-gfm';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import './markdown.css';

type HastElement = NonNullable<ExtraProps['node']>;
type HastChild = HastElement['children'][number];

/**
 * The languages agents write, rather than lowlight's `common` 37. Each grammar's own aliases
 * come with it (ts, tsx, js, jsx, sh, py, rs, yml, toml, html, …). rehype-highlight still
 * imports `common` as its default, so the bundle keeps all 37 (~79 kB minified).
 */
const HIGHLIGHT_OPTIONS: HighlightOptions = {
  languages: { bash, c, cpp, css, diff, dockerfile, go, ini, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml },
  aliases: { bash: ['shell', 'console', 'terminal'] },
  // Guessing a fence's language means trying every grammar on it: too slow while streaming.
  detect: false,
  plainText: ['text', 'txt', 'plain', 'plaintext', 'output', 'log'],
};

/**
 * react-markdown builds a new processor on every render, and rehype-highlight makes a new
 * lowlight, whose grammars highlight.js then compiles again, each time its plugin is attached.
 * One transformer, made once, keeps the compiled grammars.
 */
const highlightTransformer = rehypeHighlight(HIGHLIGHT_OPTIONS);
function rehypeHighlightShared() {
  return highlightTransformer;
}

type PluginList = NonNullable<MarkdownOptions['rehypePlugins']>;

// Module-level, like COMPONENTS: new arrays or objects per render would defeat memo below.
const REMARK_PLUGINS: PluginList = [remarkGfm];
const REHYPE_PLUGINS: PluginList = [rehypeHighlightShared];
const REHYPE_PLUGINS_STREAMING: PluginList = [rehypeHighlightShared, rehypeCaret];

const COMPONENTS: Components = {
  a: MarkdownLink,
  img: MarkdownImage,
  pre: CodeBlock,
  table: ScrollingTable,
};

export interface MarkdownProps {
  text: string;
  /** The text is still arriving: close an open code fence and show a caret at the end. */
  streaming?: boolean;
}

/**
 * Parsing is the cost (micromark + GFM + highlighting: a 20 kB reply with code took ~300 ms
 * to render on a busy 2-core machine, one of its blocks ~1 ms), and a streaming reply changes
 * on every delta. So the text is cut into top-level blocks, each parsed by its own memoized
 * component: a delta re-parses only the last block.
 */
export const Markdown = memo(function Markdown({ text, streaming = false }: MarkdownProps) {
  const blocks = useMemo(() => splitBlocks(text), [text]);
  return (
    <div className="markdown">
      {blocks.map((block, index) => (
        <MarkdownBlock key={index} text={block} streaming={streaming && index === blocks.length - 1} />
      ))}
    </div>
  );
});

const MarkdownBlock = memo(function MarkdownBlock({ text, streaming }: { text: string; streaming: boolean }) {
  return (
    <ReactMarkdown
      remarkPlugins={REMARK_PLUGINS}
      rehypePlugins={streaming ? REHYPE_PLUGINS_STREAMING : REHYPE_PLUGINS}
      components={COMPONENTS}
    >
      {streaming ? closeOpenFence(text) : text}
    </ReactMarkdown>
  );
});

/**
 * The text cut at blank lines into pieces that parse the same alone as in the whole: never
 * inside a code fence, never before an indented line (a list item's continuation, indented
 * code) or a list item (a loose list stays one list). Text with a link reference or footnote
 * definition stays whole, as those reach across blocks.
 */
export function splitBlocks(text: string): string[] {
  if (DEFINITION_LINE.test(text)) return [text];
  const lines = text.split('\n');
  const blocks: string[] = [];
  let start = 0;
  let fence: OpenFence | null = null;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    fence = fenceAfter(fence, line);
    if (fence !== null || line.trim() !== '') continue;
    let next = index + 1;
    while (next < lines.length && (lines[next] ?? '').trim() === '') next++;
    if (next === lines.length) break;
    if (CONTINUATION_LINE.test(lines[next] ?? '')) continue;
    blocks.push(lines.slice(start, index).join('\n'));
    start = next;
    index = next - 1;
  }
  blocks.push(lines.slice(start).join('\n'));
  return blocks;
}

// A link reference definition ("[id]: url") or a GFM footnote definition ("[^1]: text").
const DEFINITION_LINE = /^ {0,3}\[[^\]\n]+\]:/m;
// Indented, or a list item: it may belong to the block above the blank line.
const CONTINUATION_LINE = /^(?:\s|[-*+](?:\s|$)|\d{1,9}[.)](?:\s|$))/;

/**
 * While a reply streams, an opened fence has no closing fence yet; without one the text after
 * it would flip between paragraph and code styling as the closing fence arrives. Closes it
 * with the opening fence's own indent (inside a list item, a fence at column 0 would start a
 * second, empty code block instead).
 */
export function closeOpenFence(text: string): string {
  let fence: OpenFence | null = null;
  for (const line of text.split('\n')) fence = fenceAfter(fence, line);
  if (fence === null) return text;
  return `${text}${text.endsWith('\n') ? '' : '\n'}${fence.indent}${fence.marker}`;
}

interface OpenFence {
  indent: string;
  /** The opening run of backticks or tildes; a closing fence is at least as long. */
  marker: string;
}

/** The code fence open after `line`, given the one open before it. */
function fenceAfter(open: OpenFence | null, line: string): OpenFence | null {
  const match = FENCE_LINE.exec(line);
  if (match === null) return open;
  const indent = match[1] ?? '';
  const marker = match[2] ?? '';
  const rest = match[3] ?? '';
  if (open === null) {
    // A backtick fence's info string may not contain a backtick (CommonMark 4.5).
    return marker.startsWith('~') || !rest.includes('`') ? { indent, marker } : null;
  }
  const closes = marker[0] === open.marker[0] && marker.length >= open.marker.length && rest.trim() === '';
  return closes ? null : open;
}

const FENCE_LINE = /^(\s*)(`{3,}|~{3,})(.*)$/;

/** Only https: the main process opens nothing else in the user's browser (electron/main/security.ts). */
const SAFE_PROTOCOLS = new Set(['https:']);

/** The href as an absolute http(s) or mailto URL, or null for anything else (javascript:, relative, malformed). */
export function safeLinkUrl(href: string | undefined): string | null {
  if (!href) return null;
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
}

function MarkdownLink({ href, children }: ComponentProps<'a'> & ExtraProps) {
  const url = safeLinkUrl(href);
  if (url === null) return <span className="md-link-blocked">{children}</span>;
  return (
    <a href={url} target="_blank" rel="noreferrer noopener" title={url}>
      {children}
    </a>
  );
}

/** Never an <img>: a model-written image URL must not make the app fetch anything. */
function MarkdownImage({ src, alt }: ComponentProps<'img'> & ExtraProps) {
  const url = typeof src === 'string' ? src : '';
  return (
    <span className="md-image" title="Images in messages are not loaded">
      [image{alt ? `: ${alt}` : ''}]{url ? ` ${url}` : ''}
    </span>
  );
}

function ScrollingTable({ children }: ComponentProps<'table'> & ExtraProps) {
  return (
    <div className="md-table">
      <table>{children}</table>
    </div>
  );
}

/** How long "Copied" / "Copy failed" shows before the button says "Copy" again. */
const COPY_FEEDBACK_MS = 1500;

function CodeBlock({ node, children }: ComponentProps<'pre'> & ExtraProps) {
  const code = node?.children.find((child): child is HastElement => child.type === 'element' && child.tagName === 'code');
  const language = code === undefined ? null : languageOf(code);
  return (
    <div className="md-code">
      <div className="md-code-header">
        <span className="md-code-language">{language ?? 'text'}</span>
        <CopyButton getText={() => (code === undefined ? '' : textOf(code))} />
      </div>
      <pre>{children}</pre>
    </div>
  );
}

function CopyButton({ getText }: { getText: () => string }) {
  const [status, setStatus] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const show = (next: 'copied' | 'failed') => {
    setStatus(next);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setStatus('idle'), COPY_FEEDBACK_MS);
  };
  const copy = () => {
    // Inside the promise: without a clipboard (an insecure context) the call itself throws.
    Promise.resolve()
      .then(() => navigator.clipboard.writeText(getText()))
      .then(
        () => show('copied'),
        () => show('failed'),
      );
  };

  return (
    <button
      type="button"
      className="md-code-copy"
      onClick={copy}
      aria-live="polite"
      title={status === 'failed' ? 'The clipboard refused the code: select it and copy with the keyboard instead.' : 'Copy the code'}
    >
      {status === 'copied' ? 'Copied' : status === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}

/** The fence's language from the `language-…` class remark gives the <code>. */
function languageOf(code: HastElement): string | null {
  const classes = code.properties.className;
  if (!Array.isArray(classes)) return null;
  for (const name of classes) {
    if (typeof name === 'string' && name.startsWith('language-')) return name.slice('language-'.length);
  }
  return null;
}

/** The plain text under a hast node (the code as written, without highlight spans). */
function textOf(node: HastChild): string {
  if (node.type === 'text') return node.value;
  if (node.type !== 'element') return '';
  let text = '';
  for (const child of node.children) text += textOf(child);
  return text;
}

/** Elements with no children to put a caret in. */
const VOID_ELEMENTS = new Set(['br', 'hr', 'img', 'input']);

/**
 * A rehype plugin that puts the streaming caret right after the last character: inside the
 * last paragraph, list item or code block rather than on a line of its own below it.
 */
function rehypeCaret() {
  return (tree: { children: HastChild[] }) => {
    let parent = tree;
    for (;;) {
      const last = lastMeaningfulChild(parent.children);
      if (last === undefined || last.type !== 'element' || VOID_ELEMENTS.has(last.tagName)) break;
      parent = last;
    }
    const caret: HastElement = {
      type: 'element',
      tagName: 'span',
      properties: { className: ['md-caret'], ariaHidden: 'true' },
      children: [],
    };
    const tail = parent.children.at(-1);
    // A code block's text ends in "\n"; the caret belongs on the line being written.
    if (tail?.type === 'text' && tail.value.endsWith('\n')) {
      tail.value = tail.value.slice(0, -1);
      parent.children.push(caret, { type: 'text', value: '\n' });
    } else {
      parent.children.push(caret);
    }
  };
}

/** The last child that is not the whitespace-only text hast keeps between blocks. */
function lastMeaningfulChild(children: readonly HastChild[]): HastChild | undefined {
  for (let index = children.length - 1; index >= 0; index--) {
    const child = children[index];
    if (child === undefined) continue;
    if (child.type === 'text' && child.value.trim() === '') continue;
    if (child.type === 'comment') continue;
    return child;
  }
  return undefined;
}
