import type { EventChannel, InvokeChannel } from '../shared/contract';

/**
 * The channel names as runtime values, so the preload can expose one named function per channel.
 * `satisfies Record<…, true>` makes a channel missing here (or one not in the contract) a compile error.
 */
export const invokeChannels = Object.keys({
  'app.info': true,
  'app.openDialog': true,
  'runs.cancel': true,
  'settings.get': true,
  'settings.update': true,
  'engine.status': true,
  'engine.inspect': true,
  'engine.load': true,
  'engine.unload': true,
  'knowledge.search': true,
  'knowledge.passage': true,
  'knowledge.stats': true,
  'knowledge.ingest': true,
  'knowledge.embed': true,
  'knowledge.removeSource': true,
  'knowledge.casesIngest': true,
  'knowledge.casesSearch': true,
  'knowledge.caseImage': true,
  'studies.list': true,
  'studies.series': true,
  'studies.instances': true,
  'studies.frame': true,
  'studies.thumbnail': true,
  'studies.modelImage': true,
  'studies.import': true,
  'studies.remove': true,
  'studies.report': true,
  'reasoning.ask': true,
  'history.list': true,
  'history.get': true,
  'history.exportHtml': true,
  'eval.start': true,
  'eval.resume': true,
  'eval.list': true,
  'eval.get': true,
  'eval.results': true,
  'eval.report': true,
  'eval.export': true,
  'eval.remove': true,
} satisfies Record<InvokeChannel, true>) as InvokeChannel[];

export const eventChannels = Object.keys({
  'runs.finished': true,
  'engine.status': true,
  'knowledge.ingestProgress': true,
  'knowledge.embedProgress': true,
  'studies.importProgress': true,
  'studies.importDone': true,
  'studies.changed': true,
  'reasoning.event': true,
  'eval.progress': true,
} satisfies Record<EventChannel, true>) as EventChannel[];
