/**
 * The renderer's security stance, as plain data so that tests can check it without Electron:
 * isolated, sandboxed, no Node, a strict CSP, and no network beyond the app's own files.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    spellcheck: false,
  } as const;
}

/**
 * Whether a request from the renderer may proceed: only the app's own files (file:, the dev server on loopback when
 * developing, devtools, data:/blob: URLs). Everything else is cancelled: the app is air-gapped by design.
 */
export function isAllowedRequest(url: string, devServerUrl: string | undefined): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (['file:', 'data:', 'blob:', 'devtools:', 'chrome-extension:'].includes(parsed.protocol)) return true;
  if (devServerUrl) {
    const dev = new URL(devServerUrl);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
    return loopback && parsed.port === dev.port && ['http:', 'ws:'].includes(parsed.protocol);
  }
  return false;
}
