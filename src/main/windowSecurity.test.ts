import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, isAllowedRequest, secureWebPreferences } from './windowSecurity';

const root = resolve(import.meta.dirname, '../..');

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('window security', () => {
  it('isolates and sandboxes the renderer with no Node integration', () => {
    const prefs = secureWebPreferences('/app/preload.cjs');
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('the composition root builds its window from these preferences and denies popups and navigation', () => {
    const source = readFileSync(resolve(root, 'src/main/index.ts'), 'utf8');
    expect(source).toMatch(/webPreferences: secureWebPreferences\(/);
    expect(source).toMatch(/setWindowOpenHandler\(\(\) => \(\{ action: 'deny' \}\)\)/);
    expect(source).toMatch(/'will-navigate', \(event\) => event\.preventDefault\(\)/);
    expect(source).toMatch(/requestSingleInstanceLock/);
    expect(source).toMatch(/onBeforeRequest\(\(details, callback\)/);
  });

  it('has a strict Content-Security-Policy: own scripts only, no eval, no remote connections', () => {
    const csp = directives(contentSecurityPolicy);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(contentSecurityPolicy).not.toMatch(/unsafe-eval|https?:|\*/);
  });

  it('the renderer page carries the same policy in a meta tag (for the loopback bridge too)', () => {
    const html = readFileSync(resolve(root, 'src/renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const fromMeta = directives(meta!);
    for (const [name, values] of directives(contentSecurityPolicy)) {
      if (name === 'frame-ancestors') continue; // not allowed in a meta tag; sent as a header instead
      expect(fromMeta.get(name), name).toEqual(values);
    }
  });

  it("lets through only the app's own files: every network request is cancelled", () => {
    expect(isAllowedRequest('file:///opt/app/out/renderer/index.html', undefined)).toBe(true);
    expect(isAllowedRequest('data:image/png;base64,AAAA', undefined)).toBe(true);
    expect(isAllowedRequest('blob:file:///1234', undefined)).toBe(true);
    expect(isAllowedRequest('https://huggingface.co/model.gguf', undefined)).toBe(false);
    expect(isAllowedRequest('http://127.0.0.1:5173/', undefined)).toBe(false);
    expect(isAllowedRequest('ws://10.0.0.5/', undefined)).toBe(false);
    expect(isAllowedRequest('not a url', undefined)).toBe(false);
  });

  it('allows the dev server only on loopback at its own port while developing', () => {
    const dev = 'http://localhost:5173';
    expect(isAllowedRequest('http://localhost:5173/src/main.tsx', dev)).toBe(true);
    expect(isAllowedRequest('ws://localhost:5173/', dev)).toBe(true);
    expect(isAllowedRequest('http://localhost:8080/', dev)).toBe(false);
    expect(isAllowedRequest('http://example.com:5173/', dev)).toBe(false);
  });
});
