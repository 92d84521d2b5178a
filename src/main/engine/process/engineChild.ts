/**
 * Entry of the engine process: Electron's utilityProcess in the app (messages on `process.parentPort`),
 * child_process.fork under plain Node — tests, CLI, loopback bridge (messages on `process.send`).
 * The native runtimes live here, so a model file that crashes them takes down this process, never the app.
 */
import { removeImageFiles } from '../llama/LlamaNodeReasoner';
import { EngineHost } from './EngineHost';
import type { ChildMessage, ParentMessage } from './protocol';

interface ParentPort {
  on(event: 'message', listener: (event: { data: ParentMessage }) => void): void;
  postMessage(message: ChildMessage): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

const send = (message: ChildMessage): void => {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
};

const host = new EngineHost(send);
// Image files written for mtmd go with the process, however it ends (a crash leaves them to the OS's temp cleanup).
process.on('exit', removeImageFiles);
process.on('SIGTERM', () => process.exit(0));

if (parentPort) {
  parentPort.on('message', (event) => host.handle(event.data));
} else {
  process.on('message', (message) => host.handle(message as ParentMessage));
  // The app went away: nothing is left to serve.
  process.on('disconnect', () => {
    void host.dispose().finally(() => process.exit(0));
  });
}
