import { describe, expect, it } from 'vitest';
import { openStore } from '../store/openStore';
import { StudyIndex, type IndexedInstance } from './StudyIndex';

function instance(sopUid: string, study: Partial<IndexedInstance['study']> = {}): IndexedInstance {
  return {
    kind: 'dicom',
    patient: { name: 'Doe, Jane', nameRaw: 'Doe^Jane', id: 'P1', birthDate: null, sex: 'F' },
    study: { uid: '1.2.3', date: null, time: null, accessionNumber: null, description: '', ...study },
    series: { uid: '1.2.3.1', modality: 'CT', seriesNumber: 1, description: '', bodyPart: null, isReport: false },
    instance: {
      sopUid,
      path: `/data/${sopUid}.dcm`,
      fileSize: 1,
      fileMtimeMs: 0,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      instanceNumber: null,
      rows: 4,
      columns: 4,
      frames: 1,
      position: null,
      orientation: null,
      undisplayable: null,
      reportText: null,
    },
  };
}

describe('study index upserts inside an import batch', () => {
  it('fills what a later instance of the same study adds, and skips nothing that would change a row', () => {
    const index = new StudyIndex(openStore(':memory:'));
    index.transaction(() => {
      index.addInstance(instance('1'), () => true);
      // Same values as the first: the upsert would change nothing.
      index.addInstance(instance('2'), () => true);
      // New values: description and accession were empty, so this instance fills them.
      index.addInstance(
        instance('3', { description: 'CT CHEST', accessionNumber: 'A7', date: '2020-05-01' }),
        () => true,
      );
      // An empty accession after a null one still reaches the row (COALESCE keeps 'A7').
      index.addInstance(instance('4', { accessionNumber: '' }), () => true);
    });
    const [study] = index.listStudies({});
    expect(study).toMatchObject({
      studyInstanceUid: '1.2.3',
      description: 'CT CHEST',
      accessionNumber: 'A7',
      studyDate: '2020-05-01',
      instanceCount: 4,
      seriesCount: 1,
    });
  });

  it('upserts again in the next transaction (another import may have removed the study in between)', () => {
    const index = new StudyIndex(openStore(':memory:'));
    index.transaction(() => index.addInstance(instance('1'), () => true));
    index.removeStudy('1.2.3');
    index.transaction(() => index.addInstance(instance('2'), () => true));
    expect(index.listStudies({}).map((s) => [s.studyInstanceUid, s.instanceCount])).toEqual([['1.2.3', 1]]);
  });
});
