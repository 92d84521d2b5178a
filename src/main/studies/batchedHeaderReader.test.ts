import { describe, expect, it } from 'vitest';
import { DicomError } from '../dicom/dicomErrors';
import { batchedHeaderReader } from './batchedHeaderReader';
import type { HeaderRecord } from './headerRecord';
import type { PixelExecutor } from './pixels/PixelExecutor';
import type { HeaderOutcome, TaskArgs } from './pixels/pixelTasks';

/** An executor that answers 'headers' tasks from file names: "bad…" fails as NOT_DICOM, the rest are DICOMDIRs. */
function recordingExecutor(): { executor: PixelExecutor; batches: string[][] } {
  const batches: string[][] = [];
  const executor = {
    concurrency: 1,
    async run(task: string, args: TaskArgs['headers']): Promise<HeaderOutcome[]> {
      expect(task).toBe('headers');
      batches.push(args.files.map((f) => f.path));
      return args.files.map(({ path }) =>
        path.startsWith('bad')
          ? { ok: false, error: { code: 'NOT_DICOM', message: `${path}: not DICOM`, name: 'DicomError' } }
          : {
              ok: true,
              record: { kind: 'dicomdir', entries: [{ fileId: [path], recordType: 'IMAGE', sopInstanceUid: null }] },
            },
      );
    },
    async close() {},
  } as unknown as PixelExecutor;
  return { executor, batches };
}

describe('batched header reader', () => {
  it('sends the reads asked for in one turn as batches of at most batchSize, and settles each file on its own', async () => {
    const { executor, batches } = recordingExecutor();
    const read = batchedHeaderReader(executor, { batchSize: 3 });
    const names = ['a', 'b', 'bad1', 'c', 'd', 'e', 'f'];
    const results = await Promise.allSettled(names.map((name) => read(name, undefined)));
    expect(batches).toEqual([['a', 'b', 'bad1'], ['c', 'd', 'e'], ['f']]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    const failure = (results[2] as PromiseRejectedResult).reason as DicomError;
    expect(failure).toBeInstanceOf(DicomError);
    expect(failure.code).toBe('NOT_DICOM');
    const record = (results[3] as PromiseFulfilledResult<HeaderRecord>).value;
    expect(record).toEqual({
      kind: 'dicomdir',
      entries: [{ fileId: ['c'], recordType: 'IMAGE', sopInstanceUid: null }],
    });

    // Reads asked for in a later turn go in a new batch.
    await read('g', undefined);
    expect(batches.at(-1)).toEqual(['g']);
  });

  it('rejects every file of a batch whose task fails (a cancel, a worker that died)', async () => {
    const failing = {
      concurrency: 1,
      run: async () => {
        throw new DicomError('DICOM_MALFORMED', 'worker gone');
      },
      close: async () => {},
    } as unknown as PixelExecutor;
    const read = batchedHeaderReader(failing, { batchSize: 8 });
    const results = await Promise.allSettled(['a', 'b'].map((name) => read(name, undefined)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
