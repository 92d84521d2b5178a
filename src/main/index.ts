/**
 * Electron composition root: builds the services (compose.ts), the window, and the IPC transport. Nothing else.
 */
import { app, BrowserWindow, dialog, session } from 'electron';
import { join } from 'node:path';
import { composeApp, type App } from './compose';
import { utilityProcessSpawner } from './engine/utilityProcessHost';
import { registerElectronIpc } from './ipc/electronTransport';
import { contentSecurityPolicy, isAllowedRequest, secureWebPreferences } from './windowSecurity';

const devServerUrl = process.env['ELECTRON_RENDERER_URL'];

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  if (process.env['MEDRWR_DATA_DIR']) app.setPath('userData', process.env['MEDRWR_DATA_DIR']);
  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  app.on('window-all-closed', () => app.quit());
  void app.whenReady().then(start);
}

async function start(): Promise<void> {
  const resourcesDir = app.isPackaged ? process.resourcesPath : join(app.getAppPath(), 'resources');
  const medrwr: App = await composeApp({
    dataDir: app.getPath('userData'),
    resourcesDir,
    version: app.getVersion(),
    // Model runtimes run in a utilityProcess: a bad model file can crash it, never the app.
    engineSpawner: utilityProcessSpawner(join(import.meta.dirname, 'engineChild.js')),
    autoLoadModels: true,
    dialogs: {
      async open(request) {
        const result = await dialog.showOpenDialog({
          title: request.title,
          properties: [
            request.kind === 'folder' ? 'openDirectory' : 'openFile',
            ...(request.multiple ? (['multiSelections'] as const) : []),
          ],
          filters: request.filters,
        });
        return result.canceled ? [] : result.filePaths;
      },
    },
  });

  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url, devServerUrl) });
  });
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy] },
    });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));

  const window = new BrowserWindow({
    width: 1600,
    height: 1000,
    minWidth: 1100,
    minHeight: 700,
    show: false,
    backgroundColor: '#0b0f14',
    title: 'Med-RwR Reading Station',
    webPreferences: secureWebPreferences(join(import.meta.dirname, '../preload/index.cjs')),
  });
  window.once('ready-to-show', () => window.show());

  const unregister = registerElectronIpc(
    medrwr.handlers,
    medrwr.bus,
    () => BrowserWindow.getAllWindows().map((w) => w.webContents),
    (sender) => sender === window.webContents,
  );
  app.once('will-quit', () => {
    unregister();
    void medrwr.dispose();
  });

  if (devServerUrl) await window.loadURL(devServerUrl);
  else await window.loadFile(join(import.meta.dirname, '../renderer/index.html'));
}
