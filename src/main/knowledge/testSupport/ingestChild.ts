/**
 * Child process for the crash test: ingests files into a store and reports each committed file to its parent.
 *   node --import tsx ingestChild.ts <db> <file…>
 * With MEDRWR_CRASH_IN=<file name>, it kills itself with SIGKILL inside that file's transaction, after its rows
 * were written and before the commit — the worst moment for a crash.
 */
import { basename } from 'node:path';
import { openStore } from '../../store/openStore';
import { KnowledgeService } from '../KnowledgeService';

const [database, ...files] = process.argv.slice(2);
const crashIn = process.env['MEDRWR_CRASH_IN'];
const db = openStore(database!);
const knowledge = new KnowledgeService(db);
await knowledge.ingest(files, {
  beforeCommit: (file) => {
    if (crashIn && basename(file) === crashIn) process.kill(process.pid, 'SIGKILL');
  },
  onProgress: (report) => process.send?.({ file: report.file, status: report.status, passages: report.passagesAdded }),
});
db.close();
process.send?.({ done: true });
