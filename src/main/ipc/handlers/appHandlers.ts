import type { AppInfo, OpenDialogRequest } from '../../../shared/contract';
import type { RunRegistry } from '../../runs/RunRegistry';
import type { SettingsService } from '../../settings/SettingsService';
import type { NamespaceHandlers } from '../handlers';

export interface DialogPort {
  open(request: OpenDialogRequest): Promise<string[]>;
}

export function createAppHandlers(deps: {
  info: AppInfo;
  dialogs: DialogPort;
}): NamespaceHandlers<'app'> {
  return {
    'app.info': () => deps.info,
    'app.openDialog': (request) => deps.dialogs.open(request),
  };
}

export function createRunsHandlers(runs: RunRegistry): NamespaceHandlers<'runs'> {
  return { 'runs.cancel': ({ runId }) => ({ cancelled: runs.cancel(runId) }) };
}

export function createSettingsHandlers(settings: SettingsService): NamespaceHandlers<'settings'> {
  return {
    'settings.get': () => settings.get(),
    'settings.update': (patch) => settings.update(patch),
  };
}
