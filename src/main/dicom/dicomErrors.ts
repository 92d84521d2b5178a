import { AppError } from '../errors/AppError';

/**
 * Stable codes for why a file cannot be imported or an image cannot be shown. Each is recorded per file by the import
 * and returned to the UI, so the wording says what was expected and what was found.
 */
export const dicomErrorCodes = [
  'NOT_DICOM',
  'DICOM_TRUNCATED',
  'DICOM_MALFORMED',
  'DICOM_MISSING_UID',
  'NO_PIXEL_DATA',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'UNSUPPORTED_PIXEL_FORMAT',
  'PIXEL_DATA_TRUNCATED',
  'DECODE_FAILED',
  'FRAME_OUT_OF_RANGE',
  'IMAGE_DECODE_FAILED',
] as const;

export type DicomErrorCode = (typeof dicomErrorCodes)[number];

const codes: ReadonlySet<string> = new Set(dicomErrorCodes);

export function isDicomErrorCode(code: string): code is DicomErrorCode {
  return codes.has(code);
}

export class DicomError extends AppError {
  declare readonly code: DicomErrorCode;

  constructor(code: DicomErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
