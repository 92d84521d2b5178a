import { useCallback, useEffect, useEffectEvent, useMemo, useState } from 'react';

export interface AsyncState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

const sameDeps = (a: readonly unknown[], b: readonly unknown[]): boolean =>
  a.length === b.length && a.every((value, i) => Object.is(value, b[i]));

/**
 * Runs `load` on mount and whenever `deps` change; keeps the last data while reloading so lists do not flash.
 * Results of superseded calls are dropped.
 */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): AsyncState<T> {
  const [tick, setTick] = useState(0);
  const key = [...deps, tick];
  const [settled, setSettled] = useState<{ key: readonly unknown[]; data: T | null; error: unknown } | null>(null);
  const run = useEffectEvent(load);

  useEffect(() => {
    let current = true;
    const requested = key;
    run().then(
      (data) => current && setSettled({ key: requested, data, error: null }),
      (error: unknown) => current && setSettled((s) => ({ key: requested, data: s?.data ?? null, error })),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- callers pass the dependencies of `load` explicitly
  }, key);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return {
    data: settled?.data ?? null,
    error: settled?.error ?? null,
    loading: !settled || !sameDeps(settled.key, key),
    reload,
  };
}

/** Subscribes to a `window.api` event for the lifetime of the component; the listener always sees the latest render. */
export function useApiEvent<P>(subscribe: (listener: (payload: P) => void) => () => void, listener: (payload: P) => void): void {
  const onEvent = useEffectEvent(listener);
  useEffect(() => subscribe((payload) => onEvent(payload)), [subscribe]);
}

/** PNG bytes as a data: URL (small thumbnails; nothing to revoke, and the CSP allows data: images). */
export function useDataUrl(bytes: Uint8Array | null, type = 'image/png'): string | null {
  return useMemo(() => {
    if (!bytes) return null;
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return `data:${type};base64,${btoa(binary)}`;
  }, [bytes, type]);
}

/** Whether a key event comes from a place where the user types, so global shortcuts must leave it alone. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'range', 'submit'].includes(type);
  }
  return false;
}

/** Saves text as a file through the browser's download path (Electron shows its save dialog). */
export function saveTextFile(fileName: string, text: string, type = 'text/html'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.rel = 'noopener';
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
