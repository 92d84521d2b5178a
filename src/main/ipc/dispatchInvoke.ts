import type { InvokeChannel, InvokeReply } from '../../shared/contract';
import { AppError, toErrorPayload } from '../errors/AppError';
import type { InvokeHandlers } from './handlers';

/** Runs one invoke against the handler map and wraps the outcome, so error codes survive any transport. */
export async function dispatchInvoke(
  handlers: InvokeHandlers,
  channel: string,
  args: unknown,
): Promise<InvokeReply<unknown>> {
  if (!Object.hasOwn(handlers, channel)) {
    return {
      ok: false,
      error: { code: 'UNKNOWN_CHANNEL', message: `expected one of the contract's invoke channels, found "${channel}"` },
    };
  }
  try {
    const handler = handlers[channel as InvokeChannel] as (a: unknown) => unknown;
    return { ok: true, result: await handler(args) };
  } catch (error) {
    if (!(error instanceof AppError)) console.error(`invoke ${channel} failed:`, error);
    return { ok: false, error: toErrorPayload(error) };
  }
}
