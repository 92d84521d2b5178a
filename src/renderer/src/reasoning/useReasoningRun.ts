import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { AskRequest, ReasoningEvent, RunStarted } from '../../../shared/contract';
import { errorInfo } from '../lib/apiErrors';
import { RafBatcher } from '../lib/rafBatcher';
import { runTracker } from '../lib/runTracker';
import { applyEvents, failedToStart, idleRun, isActive, startedRun, startingRun, type RunView } from './runState';

/**
 * One live reasoning run: `ask`, `stop`, and its view. Events are queued and applied once per animation frame, so
 * the panel renders at most 60 times a second whatever the token rate.
 */
export function useReasoningRun() {
  const [run, setRun] = useState<RunView>(idleRun);
  const runRef = useRef(run);
  useLayoutEffect(() => {
    runRef.current = run;
  });
  const batcherRef = useRef<RafBatcher<ReasoningEvent> | null>(null);

  useEffect(() => {
    const batcher = new RafBatcher<ReasoningEvent>((events) =>
      setRun((state) => applyEvents(state, events, Date.now())),
    );
    batcherRef.current = batcher;
    const unsubscribe = window.api.reasoning.onEvent((event) => batcher.push(event));
    return () => {
      unsubscribe();
      batcher.dispose();
    };
  }, []);

  /** Starts a run with `begin` (ask, or a replay from history) and follows its events until it ends. */
  const start = useCallback(async (begin: () => Promise<RunStarted>) => {
    if (isActive(runRef.current)) return;
    batcherRef.current?.flushNow();
    const starting = startingRun(Date.now());
    runRef.current = starting;
    setRun(starting);
    let runId: string;
    try {
      runId = (await begin()).runId;
    } catch (e) {
      const { code, message } = errorInfo(e);
      setRun((state) => failedToStart(state, { code, message }, Date.now()));
      return;
    }
    setRun((state) => startedRun(state, runId));
    // The reasoning events normally end the run; this covers a service that fails without saying so.
    const outcome = await runTracker().wait(runId);
    batcherRef.current?.flushNow();
    setRun((state) => {
      if (state.runId !== runId || !isActive(state)) return state;
      if (outcome.status === 'failed') return { ...state, status: 'failed', error: outcome.error, finishedAt: Date.now() };
      if (outcome.status === 'cancelled') return { ...state, status: 'cancelled', finishedAt: Date.now() };
      return { ...state, status: 'completed', phase: 'finished', finishedAt: Date.now() };
    });
  }, []);

  const ask = useCallback((request: AskRequest) => start(() => window.api.reasoning.ask(request)), [start]);

  const stop = useCallback(() => {
    const { runId } = runRef.current;
    if (runId && isActive(runRef.current)) void window.api.runs.cancel({ runId });
  }, []);

  const clear = useCallback(() => {
    if (!isActive(runRef.current)) setRun(idleRun);
  }, []);

  /** Shows a stored or synthetic run in the same view (history replay). */
  const show = useCallback((view: RunView) => setRun(view), []);

  return { run, ask, start, stop, clear, show };
}
