/**
 * The one tag-mapping file: every DICOM tag number the app reads appears here and nowhere else. It turns a dcmjs
 * dataset (hex tag → {vr, Value}) into the named, typed modules of dicomModules.ts, DICOMDIR records and SR text.
 */
import type {
  DicomdirEntry,
  DicomModules,
  FrameGroups,
  ImagePixelModule,
  ImagePlaneModule,
  MultiFrameModule,
  Orientation,
  PaletteLut,
  SrModule,
  Vec3,
  VoiFunction,
  VoiWindow,
} from './dicomModules';
import { normalizeDate, normalizeTime, parsePersonName } from './normalize';

export interface RawElement {
  vr?: string;
  Value?: unknown;
}
export type RawDataset = Record<string, RawElement | undefined>;

/** Tags by keyword (PS3.6), as dcmjs keys them: 8 upper-case hex digits. */
export const Tag = {
  // File meta (group 0002)
  MediaStorageSopClassUid: '00020002',
  MediaStorageSopInstanceUid: '00020003',
  TransferSyntaxUid: '00020010',
  // Directory (group 0004)
  DirectoryRecordSequence: '00041220',
  DirectoryRecordType: '00041430',
  ReferencedFileId: '00041500',
  ReferencedSopInstanceUidInFile: '00041511',
  // SOP common, general image, study, series
  SpecificCharacterSet: '00080005',
  ImageType: '00080008',
  SopClassUid: '00080016',
  SopInstanceUid: '00080018',
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ReferringPhysicianName: '00080090',
  CodeValue: '00080100',
  CodeMeaning: '00080104',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientId: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  BodyPartExamined: '00180015',
  SliceThickness: '00180050',
  SpacingBetweenSlices: '00180088',
  ImagerPixelSpacing: '00181164',
  StudyInstanceUid: '0020000D',
  SeriesInstanceUid: '0020000E',
  StudyId: '00200010',
  SeriesNumber: '00200011',
  AcquisitionNumber: '00200012',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  FrameOfReferenceUid: '00200052',
  SliceLocation: '00201041',
  FrameContentSequence: '00209111',
  PlanePositionSequence: '00209113',
  PlaneOrientationSequence: '00209116',
  // Image pixel
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  PlanarConfiguration: '00280006',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  PixelSpacing: '00280030',
  PixelAspectRatio: '00280034',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  HighBit: '00280102',
  PixelRepresentation: '00280103',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  RescaleType: '00281054',
  WindowCenterWidthExplanation: '00281055',
  VoiLutFunction: '00281056',
  RedPaletteDescriptor: '00281101',
  GreenPaletteDescriptor: '00281102',
  BluePaletteDescriptor: '00281103',
  RedPaletteData: '00281201',
  GreenPaletteData: '00281202',
  BluePaletteData: '00281203',
  SegmentedRedPaletteData: '00281221',
  PixelMeasuresSequence: '00289110',
  FrameVoiLutSequence: '00289132',
  PixelValueTransformationSequence: '00289145',
  // Structured reporting
  RelationshipType: '0040A010',
  ValueType: '0040A040',
  ConceptNameCodeSequence: '0040A043',
  DateTime: '0040A120',
  Date: '0040A121',
  Time: '0040A122',
  PersonNameValue: '0040A123',
  Uid: '0040A124',
  TextValue: '0040A160',
  ConceptCodeSequence: '0040A168',
  MeasuredValueSequence: '0040A300',
  NumericValue: '0040A30A',
  MeasurementUnitsCodeSequence: '004008EA',
  CompletionFlag: '0040A491',
  VerificationFlag: '0040A493',
  ContentSequence: '0040A730',
  // Functional groups and pixel data
  SharedFunctionalGroupsSequence: '52009229',
  PerFrameFunctionalGroupsSequence: '52009230',
  FloatPixelData: '7FE00008',
  DoubleFloatPixelData: '7FE00009',
  PixelData: '7FE00010',
} as const;

/**
 * Every tag above as a number (`group << 16 | element`): the elements header-only reading hands to dcmjs (the rest of
 * a header is never read).
 */
export const mappedTagNumbers: ReadonlySet<number> = new Set(Object.values(Tag).map((tag) => parseInt(tag, 16)));

/** The sequences above (keyword "…Sequence", VR SQ): header-only reading keeps only mapped elements in their items. */
export const mappedSequenceTagNumbers: ReadonlySet<number> = new Set(
  Object.entries(Tag)
    .filter(([keyword]) => keyword.endsWith('Sequence'))
    .map(([, tag]) => parseInt(tag, 16)),
);

/** The tag after which header-only reading stops (nothing the index needs comes after it). */
export const pixelDataTag = Tag.PixelData;

function values(ds: RawDataset, tag: string): unknown[] {
  const v = ds[tag]?.Value;
  return Array.isArray(v) ? v : [];
}

function str(ds: RawDataset, tag: string): string | null {
  const v = values(ds, tag)[0];
  if (v === undefined || v === null) return null;
  const text = (typeof v === 'object' ? String((v as { Alphabetic?: unknown }).Alphabetic ?? '') : String(v)).trim();
  return text === '' ? null : text;
}

function strs(ds: RawDataset, tag: string): string[] {
  return values(ds, tag)
    .map((v) => String(v ?? '').trim())
    .filter((v) => v !== '');
}

function num(ds: RawDataset, tag: string): number | null {
  const v = values(ds, tag)[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function nums(ds: RawDataset, tag: string): number[] {
  return values(ds, tag).map((v) => (typeof v === 'number' ? v : Number(String(v ?? '').trim())));
}

function finiteTuple(list: number[], length: number): number[] | null {
  return list.length >= length && list.slice(0, length).every(Number.isFinite) ? list.slice(0, length) : null;
}

function seq(ds: RawDataset, tag: string): RawDataset[] {
  return values(ds, tag).filter((v): v is RawDataset => typeof v === 'object' && v !== null);
}

function personName(ds: RawDataset, tag: string): string {
  const v = values(ds, tag)[0];
  if (v && typeof v === 'object') return String((v as { Alphabetic?: unknown }).Alphabetic ?? '');
  return typeof v === 'string' ? v : '';
}

function binary(ds: RawDataset, tag: string): Uint8Array | null {
  const parts = values(ds, tag).flat();
  const buffers = parts.filter(
    (p): p is ArrayBuffer | Uint8Array => p instanceof ArrayBuffer || p instanceof Uint8Array,
  );
  if (buffers.length === 0) return null;
  const length = buffers.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(length);
  let offset = 0;
  for (const b of buffers) {
    out.set(b instanceof Uint8Array ? b : new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

function readWindows(ds: RawDataset): VoiWindow[] {
  const centers = nums(ds, Tag.WindowCenter);
  const widths = nums(ds, Tag.WindowWidth);
  const explanations = strs(ds, Tag.WindowCenterWidthExplanation);
  const windows: VoiWindow[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    const center = centers[i]!;
    const width = widths[i]!;
    if (Number.isFinite(center) && Number.isFinite(width) && width > 0) {
      windows.push({ center, width, explanation: explanations[i] ?? null });
    }
  }
  return windows;
}

function readVoiFunction(ds: RawDataset): VoiFunction {
  const fn = str(ds, Tag.VoiLutFunction)?.toUpperCase();
  return fn === 'LINEAR_EXACT' || fn === 'SIGMOID' ? fn : 'LINEAR';
}

function readPlane(ds: RawDataset): ImagePlaneModule {
  const spacing = finiteTuple(nums(ds, Tag.PixelSpacing), 2) ?? finiteTuple(nums(ds, Tag.ImagerPixelSpacing), 2);
  return {
    position: finiteTuple(nums(ds, Tag.ImagePositionPatient), 3) as Vec3 | null,
    orientation: finiteTuple(nums(ds, Tag.ImageOrientationPatient), 6) as Orientation | null,
    pixelSpacing: spacing && spacing[0]! > 0 && spacing[1]! > 0 ? (spacing as [number, number]) : null,
    sliceThickness: num(ds, Tag.SliceThickness),
    sliceLocation: num(ds, Tag.SliceLocation),
    spacingBetweenSlices: num(ds, Tag.SpacingBetweenSlices),
  };
}

function readPaletteChannel(ds: RawDataset, descriptorTag: string, dataTag: string, littleEndian: boolean) {
  const descriptor = nums(ds, descriptorTag);
  const bytes = binary(ds, dataTag);
  if (descriptor.length < 3 || !bytes) return null;
  const entries = descriptor[0] === 0 ? 65536 : descriptor[0]!;
  const bits = descriptor[2] === 8 ? 8 : 16;
  let data: Uint8Array | Uint16Array;
  if (bits === 8 && bytes.byteLength === entries) {
    data = bytes;
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    data = new Uint16Array(Math.floor(bytes.byteLength / 2));
    for (let i = 0; i < data.length; i++) data[i] = view.getUint16(i * 2, littleEndian);
  }
  return { entries, firstMapped: descriptor[1]!, bits, data };
}

function readPalette(ds: RawDataset, littleEndian: boolean): PaletteLut | null {
  const red = readPaletteChannel(ds, Tag.RedPaletteDescriptor, Tag.RedPaletteData, littleEndian);
  const green = readPaletteChannel(ds, Tag.GreenPaletteDescriptor, Tag.GreenPaletteData, littleEndian);
  const blue = readPaletteChannel(ds, Tag.BluePaletteDescriptor, Tag.BluePaletteData, littleEndian);
  if (!red || !green || !blue) return null;
  return {
    entries: red.entries,
    firstMapped: red.firstMapped,
    bits: red.bits,
    red: red.data,
    green: green.data,
    blue: blue.data,
  };
}

/** Whether the dataset carries a segmented palette, which the decoder names as unsupported. */
export function hasSegmentedPalette(ds: RawDataset): boolean {
  return ds[Tag.SegmentedRedPaletteData] !== undefined;
}

function readImagePixel(ds: RawDataset, littleEndian: boolean): ImagePixelModule | null {
  const rows = num(ds, Tag.Rows);
  const columns = num(ds, Tag.Columns);
  const bitsAllocated = num(ds, Tag.BitsAllocated);
  if (rows === null || columns === null || bitsAllocated === null) return null;
  const bitsStored = num(ds, Tag.BitsStored) ?? bitsAllocated;
  const aspect = finiteTuple(nums(ds, Tag.PixelAspectRatio), 2);
  return {
    samplesPerPixel: num(ds, Tag.SamplesPerPixel) ?? 1,
    photometricInterpretation: (str(ds, Tag.PhotometricInterpretation) ?? 'MONOCHROME2').toUpperCase(),
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    highBit: num(ds, Tag.HighBit) ?? bitsStored - 1,
    pixelRepresentation: num(ds, Tag.PixelRepresentation) ?? 0,
    planarConfiguration: num(ds, Tag.PlanarConfiguration) ?? 0,
    numberOfFrames: Math.max(1, Math.trunc(num(ds, Tag.NumberOfFrames) ?? 1)),
    pixelAspectRatio: aspect as [number, number] | null,
    palette: readPalette(ds, littleEndian),
  };
}

function readFrameGroups(groups: RawDataset[]): Partial<FrameGroups> {
  const out: Partial<FrameGroups> = {};
  for (const group of groups) {
    const position = seq(group, Tag.PlanePositionSequence)[0];
    if (position) out.position = finiteTuple(nums(position, Tag.ImagePositionPatient), 3) as Vec3 | null;
    const orientation = seq(group, Tag.PlaneOrientationSequence)[0];
    if (orientation)
      out.orientation = finiteTuple(nums(orientation, Tag.ImageOrientationPatient), 6) as Orientation | null;
    const measures = seq(group, Tag.PixelMeasuresSequence)[0];
    if (measures) {
      const spacing = finiteTuple(nums(measures, Tag.PixelSpacing), 2);
      if (spacing) out.pixelSpacing = spacing as [number, number];
      const thickness = num(measures, Tag.SliceThickness);
      if (thickness !== null) out.sliceThickness = thickness;
    }
    const transform = seq(group, Tag.PixelValueTransformationSequence)[0];
    if (transform) {
      const slope = num(transform, Tag.RescaleSlope);
      const intercept = num(transform, Tag.RescaleIntercept);
      if (slope !== null || intercept !== null) out.rescale = { slope: slope ?? 1, intercept: intercept ?? 0 };
    }
    const voi = seq(group, Tag.FrameVoiLutSequence)[0];
    if (voi) {
      const windows = readWindows(voi);
      if (windows.length > 0) out.windows = windows;
    }
  }
  return out;
}

function readMultiFrame(ds: RawDataset, frameCount: number): MultiFrameModule | null {
  const shared = seq(ds, Tag.SharedFunctionalGroupsSequence)[0];
  const perFrame = seq(ds, Tag.PerFrameFunctionalGroupsSequence);
  if (!shared && perFrame.length === 0) return null;
  const sharedGroups = shared ? readFrameGroups([shared]) : {};
  const frames: FrameGroups[] = [];
  for (let i = 0; i < frameCount; i++) {
    const own = perFrame[i] ? readFrameGroups([perFrame[i]!]) : {};
    const merged = { ...sharedGroups, ...own };
    frames.push({
      position: merged.position ?? null,
      orientation: merged.orientation ?? null,
      pixelSpacing: merged.pixelSpacing ?? null,
      sliceThickness: merged.sliceThickness ?? null,
      rescale: merged.rescale ?? null,
      windows: merged.windows ?? [],
    });
  }
  return { frames };
}

function codeMeaning(ds: RawDataset, tag: string): string | null {
  const code = seq(ds, tag)[0];
  return code ? (str(code, Tag.CodeMeaning) ?? str(code, Tag.CodeValue)) : null;
}

function srValue(item: RawDataset): string {
  switch (str(item, Tag.ValueType)?.toUpperCase()) {
    case 'TEXT':
      return str(item, Tag.TextValue) ?? '';
    case 'CODE':
      return codeMeaning(item, Tag.ConceptCodeSequence) ?? '';
    case 'PNAME':
      return parsePersonName(personName(item, Tag.PersonNameValue)).display;
    case 'DATE':
      return normalizeDate(str(item, Tag.Date)) ?? '';
    case 'TIME':
      return normalizeTime(str(item, Tag.Time)) ?? '';
    case 'DATETIME':
      return str(item, Tag.DateTime) ?? '';
    case 'UIDREF':
      return str(item, Tag.Uid) ?? '';
    case 'NUM': {
      const measured = seq(item, Tag.MeasuredValueSequence)[0];
      if (!measured) return '';
      const unit = codeMeaning(measured, Tag.MeasurementUnitsCodeSequence);
      return [str(measured, Tag.NumericValue), unit && unit !== 'no units' ? unit : null].filter(Boolean).join(' ');
    }
    default:
      return '';
  }
}

function flattenContent(items: RawDataset[], depth: number, lines: string[]): void {
  if (depth > 32) return;
  for (const item of items) {
    const name = codeMeaning(item, Tag.ConceptNameCodeSequence);
    const value = srValue(item);
    const children = seq(item, Tag.ContentSequence);
    const indent = '  '.repeat(depth);
    if (value) lines.push(`${indent}${name ? `${name}: ` : ''}${value}`);
    else if (name && children.length > 0) lines.push(`${indent}${name}`);
    flattenContent(children, depth + 1, lines);
  }
}

function readSr(ds: RawDataset): SrModule | null {
  const content = seq(ds, Tag.ContentSequence);
  if (content.length === 0 && str(ds, Tag.ValueType) === null) return null;
  const lines: string[] = [];
  flattenContent(content, 0, lines);
  return {
    documentTitle: codeMeaning(ds, Tag.ConceptNameCodeSequence),
    completionFlag: str(ds, Tag.CompletionFlag),
    verificationFlag: str(ds, Tag.VerificationFlag),
    text: lines.join('\n'),
  };
}

/**
 * Builds the typed modules from a dcmjs dataset and its file meta group. `littleEndian` is the dataset's byte order
 * (for OW palette data).
 */
export function readModules(
  meta: RawDataset,
  ds: RawDataset,
  options: { littleEndian: boolean; hasPreamble: boolean },
): DicomModules {
  const imagePixel = readImagePixel(ds, options.littleEndian);
  const frameCount = imagePixel?.numberOfFrames ?? 1;
  return {
    fileMeta: {
      transferSyntaxUid: str(meta, Tag.TransferSyntaxUid) ?? '',
      mediaStorageSopClassUid: str(meta, Tag.MediaStorageSopClassUid),
      mediaStorageSopInstanceUid: str(meta, Tag.MediaStorageSopInstanceUid),
      hasPreamble: options.hasPreamble,
    },
    patient: {
      name: parsePersonName(personName(ds, Tag.PatientName)),
      id: str(ds, Tag.PatientId) ?? '',
      birthDate: normalizeDate(str(ds, Tag.PatientBirthDate)),
      sex: str(ds, Tag.PatientSex),
    },
    study: {
      studyInstanceUid: str(ds, Tag.StudyInstanceUid) ?? '',
      date: normalizeDate(str(ds, Tag.StudyDate)),
      time: normalizeTime(str(ds, Tag.StudyTime)),
      accessionNumber: str(ds, Tag.AccessionNumber),
      description: str(ds, Tag.StudyDescription) ?? '',
      studyId: str(ds, Tag.StudyId),
      referringPhysician: parsePersonName(personName(ds, Tag.ReferringPhysicianName)),
    },
    series: {
      seriesInstanceUid: str(ds, Tag.SeriesInstanceUid) ?? '',
      modality: (str(ds, Tag.Modality) ?? '').toUpperCase(),
      seriesNumber: num(ds, Tag.SeriesNumber),
      description: str(ds, Tag.SeriesDescription) ?? '',
      bodyPart: str(ds, Tag.BodyPartExamined),
      frameOfReferenceUid: str(ds, Tag.FrameOfReferenceUid),
    },
    instance: {
      sopClassUid: str(ds, Tag.SopClassUid) ?? str(meta, Tag.MediaStorageSopClassUid) ?? '',
      sopInstanceUid: str(ds, Tag.SopInstanceUid) ?? str(meta, Tag.MediaStorageSopInstanceUid) ?? '',
      instanceNumber: num(ds, Tag.InstanceNumber),
      imageType: strs(ds, Tag.ImageType).map((t) => t.toUpperCase()),
      acquisitionNumber: num(ds, Tag.AcquisitionNumber),
    },
    imagePlane: readPlane(ds),
    imagePixel,
    voiLut: { windows: readWindows(ds), voiFunction: readVoiFunction(ds) },
    modalityLut: {
      slope: num(ds, Tag.RescaleSlope) ?? 1,
      intercept: num(ds, Tag.RescaleIntercept) ?? 0,
      rescaleType: str(ds, Tag.RescaleType),
    },
    multiFrame: readMultiFrame(ds, frameCount),
    sr: readSr(ds),
    hasPixelData:
      ds[Tag.PixelData] !== undefined ||
      ds[Tag.FloatPixelData] !== undefined ||
      ds[Tag.DoubleFloatPixelData] !== undefined,
  };
}

/** The transfer syntax UID of a file meta group ('' when absent). */
export function transferSyntaxUidOf(meta: RawDataset): string {
  return str(meta, Tag.TransferSyntaxUid) ?? '';
}

/** The Pixel Data element's value: one ArrayBuffer per fragment or frame (encapsulated) or the native bytes. */
export function pixelDataValue(ds: RawDataset): { vr: string | undefined; parts: unknown[] } | null {
  const element = ds[Tag.PixelData];
  if (!element || !Array.isArray(element.Value)) return null;
  return { vr: element.vr, parts: element.Value };
}

/** Which kind of pixel data element the dataset holds (float pixel data is named as unsupported). */
export function floatPixelDataPresent(ds: RawDataset): boolean {
  return ds[Tag.FloatPixelData] !== undefined || ds[Tag.DoubleFloatPixelData] !== undefined;
}

/** The referenced files of a DICOMDIR's directory records (IMAGE, SR DOCUMENT, … records that name a file). */
export function readDicomdirEntries(ds: RawDataset): DicomdirEntry[] {
  return seq(ds, Tag.DirectoryRecordSequence).flatMap((record) => {
    const fileId = strs(record, Tag.ReferencedFileId);
    if (fileId.length === 0) return [];
    return [
      {
        fileId,
        recordType: (str(record, Tag.DirectoryRecordType) ?? '').toUpperCase(),
        sopInstanceUid: str(record, Tag.ReferencedSopInstanceUidInFile),
      },
    ];
  });
}

/** The media storage SOP class of a DICOMDIR (PS3.10). */
export const mediaDirectorySopClassUid = '1.2.840.10008.1.3.10';
