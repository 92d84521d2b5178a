import type { InvokeArgs, InvokeChannel, InvokeResult } from '../../shared/contract';

export type InvokeHandler<C extends InvokeChannel> = (args: InvokeArgs<C>) => Promise<InvokeResult<C>> | InvokeResult<C>;

/** One handler per invoke channel; the type makes a missing or mistyped handler a compile error. */
export type InvokeHandlers = { [C in InvokeChannel]: InvokeHandler<C> };

/** The handlers of one namespace ("studies", "knowledge", …), contributed by that service's module. */
export type NamespaceHandlers<N extends string> = {
  [C in Extract<InvokeChannel, `${N}.${string}`>]: InvokeHandler<C>;
};
