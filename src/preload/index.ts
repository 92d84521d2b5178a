import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { EventChannel, InvokeChannel, InvokeReply, PlatformHelpers } from '../shared/contract';
import { eventChannels, invokeChannels } from './channels';
import { createApi } from './createApi';

const api = createApi(
  {
    invoke: (channel: InvokeChannel, args: unknown) => ipcRenderer.invoke(channel, args) as Promise<InvokeReply<unknown>>,
    subscribe: (event: EventChannel, listener: (payload: unknown) => void) => {
      const handler = (_event: Electron.IpcRendererEvent, payload: unknown): void => listener(payload);
      ipcRenderer.on(event, handler);
      return () => {
        ipcRenderer.removeListener(event, handler);
      };
    },
  },
  invokeChannels,
  eventChannels,
);

contextBridge.exposeInMainWorld('api', api);
/** Dropped files carry their path only in Electron; the renderer treats null as "no path available". */
contextBridge.exposeInMainWorld('platform', {
  pathForFile: (file: Blob): string | null => (file instanceof File ? webUtils.getPathForFile(file) || null : null),
  transport: 'electron-ipc',
} satisfies PlatformHelpers);
