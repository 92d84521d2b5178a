import { useEffect, useState } from 'react';
import type { AppInfo } from '../../shared/contract';

export function App() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    window.api.app.info().then(setInfo, (e: Error) => setError(e.message));
  }, []);
  return (
    <main className="app">
      <header className="app-header">
        <h1>Med-RwR Reading Station</h1>
        <span data-testid="network-status" className="badge">
          {info ? `network: ${info.network}` : error ?? 'connecting…'}
        </span>
      </header>
      <section data-testid="data-dir">{info?.dataDir}</section>
    </main>
  );
}
