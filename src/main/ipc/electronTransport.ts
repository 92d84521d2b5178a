import { ipcMain, type WebContents } from 'electron';
import { dispatchInvoke } from './dispatchInvoke';
import type { EventBus } from './EventBus';
import type { InvokeHandlers } from './handlers';

/**
 * Serves the contract over Electron IPC: one `ipcMain.handle` per invoke channel (replies wrapped so error codes
 * survive) and every bus event forwarded to the renderer. The only place besides the preload that touches raw IPC.
 */
export function registerElectronIpc(
  handlers: InvokeHandlers,
  bus: EventBus,
  targets: () => WebContents[],
  isTrustedSender: (sender: WebContents) => boolean,
): () => void {
  for (const channel of Object.keys(handlers)) {
    ipcMain.handle(channel, (event, args: unknown) => {
      if (!isTrustedSender(event.sender)) {
        return { ok: false, error: { code: 'FORBIDDEN', message: `IPC from an untrusted frame on ${channel}` } };
      }
      return dispatchInvoke(handlers, channel, args);
    });
  }
  const unsubscribe = bus.subscribe((event, payload) => {
    for (const contents of targets()) if (!contents.isDestroyed()) contents.send(event, payload);
  });
  return () => {
    unsubscribe();
    for (const channel of Object.keys(handlers)) ipcMain.removeHandler(channel);
  };
}
