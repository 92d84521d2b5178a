export interface AppInfo {
  version: string;
  dataDir: string;
  databasePath: string;
  /** Always 'blocked': the app refuses every request that is not its own. */
  network: 'blocked';
  platform: string;
}

export interface OpenDialogRequest {
  title: string;
  kind: 'files' | 'folder';
  filters?: { name: string; extensions: string[] }[];
  multiple?: boolean;
}

/** Helpers the preload exposes beside `window.api` as `window.platform`; the loopback bridge has no file paths. */
export interface PlatformHelpers {
  /** The file-system path of a dropped file, or null where the transport cannot know it. */
  pathForFile(file: Blob): string | null;
  /** Which transport carries the API; for diagnostics only, the UI never branches on it. */
  transport: 'electron-ipc' | 'loopback-bridge';
}
