import { describe, it, expect } from 'vitest';
import { isTrustedSenderUrl } from './trusted-sender.ts';

const appPage = 'file:///opt/Drover/resources/app.asar/out/renderer/index.html';
const devServer = 'http://localhost:5173';

describe('isTrustedSenderUrl with the packaged app page', () => {
  it('accepts the exact app page', () => {
    expect(isTrustedSenderUrl(appPage, appPage)).toBe(true);
  });

  it('accepts the app page with a query or fragment', () => {
    expect(isTrustedSenderUrl(`${appPage}#/sessions/1`, appPage)).toBe(true);
    expect(isTrustedSenderUrl(`${appPage}?view=timeline`, appPage)).toBe(true);
  });

  it('rejects other file:// paths', () => {
    expect(isTrustedSenderUrl('file:///opt/Drover/resources/app.asar/out/renderer/other.html', appPage)).toBe(false);
    expect(isTrustedSenderUrl('file:///tmp/index.html', appPage)).toBe(false);
    expect(isTrustedSenderUrl('file:///opt/Drover/resources/app.asar/out/renderer/index.html.evil', appPage)).toBe(false);
    expect(isTrustedSenderUrl('file:///opt/Drover/resources/app.asar/out/renderer/', appPage)).toBe(false);
  });

  it('rejects a file:// URL on another host', () => {
    expect(isTrustedSenderUrl('file://fileserver/opt/Drover/resources/app.asar/out/renderer/index.html', appPage)).toBe(false);
  });

  it('rejects other origins and schemes', () => {
    expect(isTrustedSenderUrl('https://example.com/out/renderer/index.html', appPage)).toBe(false);
    expect(isTrustedSenderUrl('http://localhost:5173/', appPage)).toBe(false);
    expect(isTrustedSenderUrl('about:blank', appPage)).toBe(false);
    expect(isTrustedSenderUrl('data:text/html,<h1>hi</h1>', appPage)).toBe(false);
    expect(isTrustedSenderUrl('devtools://devtools/bundled/index.html', appPage)).toBe(false);
  });

  it('rejects malformed URLs', () => {
    expect(isTrustedSenderUrl('', appPage)).toBe(false);
    expect(isTrustedSenderUrl('index.html', appPage)).toBe(false);
    expect(isTrustedSenderUrl('/opt/Drover/resources/app.asar/out/renderer/index.html', appPage)).toBe(false);
    expect(isTrustedSenderUrl('http://[::1', appPage)).toBe(false);
  });

  it('rejects everything when the app URL itself is malformed', () => {
    expect(isTrustedSenderUrl(appPage, '')).toBe(false);
    expect(isTrustedSenderUrl('', '')).toBe(false);
    expect(isTrustedSenderUrl('not a url', 'not a url')).toBe(false);
  });
});

describe('isTrustedSenderUrl with the dev server', () => {
  it('accepts any page on the matching origin', () => {
    expect(isTrustedSenderUrl('http://localhost:5173/', devServer)).toBe(true);
    expect(isTrustedSenderUrl('http://localhost:5173/index.html?t=1', devServer)).toBe(true);
  });

  it('rejects a different port, host, or scheme', () => {
    expect(isTrustedSenderUrl('http://localhost:5174/', devServer)).toBe(false);
    expect(isTrustedSenderUrl('http://127.0.0.1:5173/', devServer)).toBe(false);
    expect(isTrustedSenderUrl('https://localhost:5173/', devServer)).toBe(false);
    expect(isTrustedSenderUrl('ws://localhost:5173/', devServer)).toBe(false);
  });

  it('rejects look-alike hosts that a prefix check would accept', () => {
    expect(isTrustedSenderUrl('http://localhost:5173.evil.example/', devServer)).toBe(false);
    expect(isTrustedSenderUrl('http://localhost:51730/', devServer)).toBe(false);
    expect(isTrustedSenderUrl('http://localhost:5173@evil.example/', devServer)).toBe(false);
  });

  it('rejects the packaged app page while in dev', () => {
    expect(isTrustedSenderUrl(appPage, devServer)).toBe(false);
  });
});

describe('isTrustedSenderUrl with an unsupported app URL scheme', () => {
  it('rejects even an identical sender URL', () => {
    expect(isTrustedSenderUrl('about:blank', 'about:blank')).toBe(false);
    expect(isTrustedSenderUrl('data:text/html,x', 'data:text/html,x')).toBe(false);
  });
});
