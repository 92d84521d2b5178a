/**
 * A DICOM header as named, typed modules (PS3.3 information object modules), built once by `readModules` in
 * dicomTags.ts. Nothing outside that file knows a tag number; everything else reads these fields.
 */

export type Vec3 = [number, number, number];
export type Orientation = [number, number, number, number, number, number];

/** A person name (PN) split into its components; `display` is "Family, Given Middle" for lists. */
export interface PersonName {
  raw: string;
  family: string;
  given: string;
  middle: string;
  prefix: string;
  suffix: string;
  display: string;
}

export interface FileMetaModule {
  transferSyntaxUid: string;
  mediaStorageSopClassUid: string | null;
  mediaStorageSopInstanceUid: string | null;
  /** False for legacy files without the 128-byte preamble and "DICM" (read as Implicit VR Little Endian). */
  hasPreamble: boolean;
}

export interface PatientModule {
  name: PersonName;
  id: string;
  /** ISO date (YYYY-MM-DD) or null. */
  birthDate: string | null;
  sex: string | null;
}

export interface GeneralStudyModule {
  studyInstanceUid: string;
  /** ISO date (YYYY-MM-DD) or null. */
  date: string | null;
  /** HH:MM:SS or null. */
  time: string | null;
  accessionNumber: string | null;
  description: string;
  studyId: string | null;
  referringPhysician: PersonName;
}

export interface GeneralSeriesModule {
  seriesInstanceUid: string;
  modality: string;
  seriesNumber: number | null;
  description: string;
  bodyPart: string | null;
  frameOfReferenceUid: string | null;
}

/** SOP Common + General Image. */
export interface InstanceModule {
  sopClassUid: string;
  sopInstanceUid: string;
  instanceNumber: number | null;
  imageType: string[];
  acquisitionNumber: number | null;
}

export interface ImagePlaneModule {
  position: Vec3 | null;
  orientation: Orientation | null;
  /** [row spacing, column spacing] in mm (PixelSpacing, else ImagerPixelSpacing). */
  pixelSpacing: [number, number] | null;
  sliceThickness: number | null;
  sliceLocation: number | null;
  spacingBetweenSlices: number | null;
}

export interface PaletteLut {
  /** Number of entries, first stored value mapped, bits per entry (8 or 16). */
  entries: number;
  firstMapped: number;
  bits: number;
  red: Uint16Array | Uint8Array;
  green: Uint16Array | Uint8Array;
  blue: Uint16Array | Uint8Array;
}

export interface ImagePixelModule {
  samplesPerPixel: number;
  photometricInterpretation: string;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  /** 0 interleaved (RGBRGB…), 1 by plane (RR…GG…BB…). */
  planarConfiguration: number;
  numberOfFrames: number;
  /** [vertical, horizontal] when present. */
  pixelAspectRatio: [number, number] | null;
  palette: PaletteLut | null;
}

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface VoiWindow {
  center: number;
  width: number;
  explanation: string | null;
}

export interface VoiLutModule {
  windows: VoiWindow[];
  voiFunction: VoiFunction;
}

export interface ModalityLutModule {
  slope: number;
  intercept: number;
  rescaleType: string | null;
}

/** One frame's functional groups (shared merged with per-frame) of an enhanced multi-frame object. */
export interface FrameGroups {
  position: Vec3 | null;
  orientation: Orientation | null;
  pixelSpacing: [number, number] | null;
  sliceThickness: number | null;
  rescale: { slope: number; intercept: number } | null;
  windows: VoiWindow[];
}

export interface MultiFrameModule {
  frames: FrameGroups[];
}

/** Structured report content, flattened to readable text. */
export interface SrModule {
  documentTitle: string | null;
  completionFlag: string | null;
  verificationFlag: string | null;
  text: string;
}

export interface DicomModules {
  fileMeta: FileMetaModule;
  patient: PatientModule;
  study: GeneralStudyModule;
  series: GeneralSeriesModule;
  instance: InstanceModule;
  imagePlane: ImagePlaneModule;
  /** Null when the object has no image pixel module (SR, presentation states, DICOMDIR…). */
  imagePixel: ImagePixelModule | null;
  voiLut: VoiLutModule;
  modalityLut: ModalityLutModule;
  multiFrame: MultiFrameModule | null;
  sr: SrModule | null;
  /** Whether the Pixel Data (or Float/Double Float Pixel Data) element is present. */
  hasPixelData: boolean;
}

/** One referenced file of a DICOMDIR (PS3.10 media directory). */
export interface DicomdirEntry {
  /** Path components as recorded (ReferencedFileID), relative to the DICOMDIR's folder. */
  fileId: string[];
  recordType: string;
  sopInstanceUid: string | null;
}
