import { useEffect, useState } from 'react';
import { AppProvider, useApp, type Screen } from './AppContext';
import { Icon, type IconName } from './components/Icon';
import { ShortcutsHelp } from './components/ShortcutsHelp';
import { ErrorNotice } from './components/ErrorNotice';
import { EvalScreen } from './eval/EvalScreen';
import { HistoryScreen } from './history/HistoryScreen';
import { isTypingTarget } from './lib/hooks';
import { formatPersonName, formatStudyDate } from './lib/format';
import { ReadingScreen } from './reading/ReadingScreen';
import { SettingsScreen } from './settings/SettingsScreen';
import { StudiesScreen } from './studies/StudiesScreen';

const tabs: { screen: Screen; label: string; icon: IconName; key: string }[] = [
  { screen: 'studies', label: 'Studies', icon: 'studies', key: '1' },
  { screen: 'reading', label: 'Reading', icon: 'viewer', key: '2' },
  { screen: 'history', label: 'History', icon: 'history', key: '3' },
  { screen: 'eval', label: 'Evaluation', icon: 'eval', key: '4' },
  { screen: 'settings', label: 'Settings', icon: 'settings', key: '5' },
];

export function App() {
  return (
    <AppProvider>
      <Shell />
    </AppProvider>
  );
}

function Shell() {
  const { screen, navigate, study, connectionError } = useApp();
  const [helpOpen, setHelpOpen] = useState(false);
  // Screens stay mounted once visited, so the viewer position, a streaming run or a filter survive a tab switch.
  const [visited, setVisited] = useState<Set<Screen>>(() => new Set([screen]));
  if (!visited.has(screen)) setVisited(new Set(visited).add(screen));

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.altKey && !e.ctrlKey && !e.metaKey) {
        const tab = tabs.find((t) => e.code === `Digit${t.key}`);
        if (tab) {
          e.preventDefault();
          navigate(tab.screen);
          return;
        }
      }
      if (isTypingTarget(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '?') {
        e.preventDefault();
        setHelpOpen((open) => !open);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            RwR
          </span>
          <span className="brand-name">Reading Station</span>
        </div>
        <nav className="tabs" role="tablist" aria-label="Screens">
          {tabs.map((tab) => (
            <button
              key={tab.screen}
              type="button"
              role="tab"
              aria-selected={screen === tab.screen}
              className={`tab${screen === tab.screen ? ' tab-active' : ''}`}
              onClick={() => navigate(tab.screen)}
              title={`${tab.label} (Alt+${tab.key})`}
              data-testid={`tab-${tab.screen}`}
            >
              <Icon name={tab.icon} />
              <span>{tab.label}</span>
            </button>
          ))}
        </nav>
        <div className="topbar-study" data-testid="current-study">
          {study ? (
            <>
              <strong>{formatPersonName(study.patientName)}</strong>
              <span>{study.patientId}</span>
              <span>{formatStudyDate(study.studyDate)}</span>
              <span className="muted">{study.description || study.modalities.join(', ')}</span>
            </>
          ) : (
            <span className="muted">No study open</span>
          )}
        </div>
        <StatusChips />
        <button type="button" className="btn btn-icon" onClick={() => setHelpOpen(true)} title="Keyboard shortcuts (?)">
          <Icon name="keyboard" />
        </button>
      </header>
      {connectionError ? (
        <div className="app-banner">
          <ErrorNotice error={connectionError} title="The station's services cannot be reached" />
        </div>
      ) : null}
      <main className="screens">
        {visited.has('studies') ? (
          <section className="screen" hidden={screen !== 'studies'} aria-label="Studies">
            <StudiesScreen active={screen === 'studies'} />
          </section>
        ) : null}
        {visited.has('reading') ? (
          <section className="screen" hidden={screen !== 'reading'} aria-label="Reading">
            <ReadingScreen active={screen === 'reading'} />
          </section>
        ) : null}
        {visited.has('history') ? (
          <section className="screen" hidden={screen !== 'history'} aria-label="History">
            <HistoryScreen active={screen === 'history'} />
          </section>
        ) : null}
        {visited.has('eval') ? (
          <section className="screen" hidden={screen !== 'eval'} aria-label="Evaluation">
            <EvalScreen active={screen === 'eval'} />
          </section>
        ) : null}
        {visited.has('settings') ? (
          <section className="screen" hidden={screen !== 'settings'} aria-label="Settings">
            <SettingsScreen active={screen === 'settings'} />
          </section>
        ) : null}
      </main>
      {helpOpen ? <ShortcutsHelp onClose={() => setHelpOpen(false)} /> : null}
    </div>
  );
}

function StatusChips() {
  const { info, engine, engineError, settings, navigate } = useApp();
  let model: { label: string; tone: 'ok' | 'warn' | 'bad' | 'idle'; title: string };
  if (engineError) {
    model = { label: 'Engine unavailable', tone: 'idle', title: 'The model engine is not available in this build.' };
  } else if (settings && !settings.models.reasoner) {
    model = { label: 'No model', tone: 'warn', title: 'No reasoning model configured: retrieval-only search still works.' };
  } else if (engine) {
    const state = engine.reasoner.state;
    model =
      state === 'ready'
        ? {
            label: engine.visionReady ? 'Model ready · vision' : 'Model ready · no vision',
            tone: engine.visionReady ? 'ok' : 'warn',
            title: engine.reasoner.path ?? '',
          }
        : state === 'loading'
          ? { label: 'Model loading…', tone: 'idle', title: engine.reasoner.path ?? '' }
          : state === 'failed'
            ? { label: 'Model failed', tone: 'bad', title: engine.reasoner.error?.message ?? '' }
            : { label: 'Model not loaded', tone: 'warn', title: 'Load it in Settings → Models' };
  } else {
    model = { label: 'Model …', tone: 'idle', title: '' };
  }
  return (
    <div className="status-chips">
      <button
        type="button"
        className={`chip chip-${model.tone}`}
        title={model.title}
        onClick={() => navigate('settings')}
        data-testid="model-status"
      >
        <Icon name="chip" size={14} /> {model.label}
      </button>
      <span
        className={`chip ${info ? 'chip-ok' : 'chip-idle'}`}
        title="The station makes no network requests; all models and data stay on this workstation."
        data-testid="network-status"
      >
        <Icon name="shield" size={14} /> {info ? `network: ${info.network}` : 'connecting…'}
      </span>
    </div>
  );
}
