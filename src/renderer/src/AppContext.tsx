import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { AppInfo, EngineStatus, Settings, SettingsPatch, StudySummary } from '../../shared/contract';

export type Screen = 'studies' | 'reading' | 'history' | 'eval' | 'settings';

export interface AppState {
  info: AppInfo | null;
  /** Set when the station itself cannot be reached (the bridge or IPC is down). */
  connectionError: unknown;
  settings: Settings | null;
  updateSettings: (patch: SettingsPatch) => Promise<Settings>;
  /** null until known; `engineError` says why when the engine service is not available. */
  engine: EngineStatus | null;
  engineError: unknown;
  refreshEngine: () => void;
  screen: Screen;
  navigate: (screen: Screen) => void;
  study: StudySummary | null;
  openStudy: (study: StudySummary) => void;
  /** Asks the history screen to open a run (from the reasoning panel); a new object per request. */
  historyRequest: { runId: string } | null;
  openHistoryRun: (runId: string) => void;
}

const Context = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(Context);
  if (!state) throw new Error('useApp outside <AppProvider>');
  return state;
}

export function AppProvider({ children }: { children: ReactNode }) {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [connectionError, setConnectionError] = useState<unknown>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [engine, setEngine] = useState<EngineStatus | null>(null);
  const [engineError, setEngineError] = useState<unknown>(null);
  const [screen, setScreen] = useState<Screen>('studies');
  const [study, setStudy] = useState<StudySummary | null>(null);
  const [historyRequest, setHistoryRequest] = useState<{ runId: string } | null>(null);
  const [engineTick, setEngineTick] = useState(0);

  useEffect(() => {
    window.api.app.info().then(setInfo, setConnectionError);
    window.api.settings.get().then(setSettings, setConnectionError);
  }, []);

  useEffect(() => {
    let current = true;
    window.api.engine.status().then(
      (status) => {
        if (!current) return;
        setEngine(status);
        setEngineError(null);
      },
      (e: unknown) => current && setEngineError(e),
    );
    return () => {
      current = false;
    };
  }, [engineTick]);

  useEffect(
    () =>
      window.api.engine.onStatus((status) => {
        setEngine(status);
        setEngineError(null);
      }),
    [],
  );

  const updateSettings = useCallback(async (patch: SettingsPatch) => {
    const next = await window.api.settings.update(patch);
    setSettings(next);
    return next;
  }, []);

  const openStudy = useCallback((next: StudySummary) => {
    setStudy(next);
    setScreen('reading');
  }, []);

  const openHistoryRun = useCallback((runId: string) => {
    setHistoryRequest({ runId });
    setScreen('history');
  }, []);

  const refreshEngine = useCallback(() => setEngineTick((t) => t + 1), []);

  const value = useMemo<AppState>(
    () => ({
      info,
      connectionError,
      settings,
      updateSettings,
      engine,
      engineError,
      refreshEngine,
      screen,
      navigate: setScreen,
      study,
      openStudy,
      historyRequest,
      openHistoryRun,
    }),
    [info, connectionError, settings, updateSettings, engine, engineError, refreshEngine, screen, study, openStudy, historyRequest, openHistoryRun],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}
