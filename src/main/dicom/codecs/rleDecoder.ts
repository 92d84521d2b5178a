import { DicomError } from '../dicomErrors';

/**
 * DICOM RLE Lossless (PS3.5 Annex G). A frame is a 64-byte header (segment count + 15 offsets) and one PackBits
 * segment per byte plane: for each sample, the most significant byte first. Returns pixel-interleaved samples in
 * little-endian byte order, ready to be read like native data.
 */
export function decodeRleFrame(
  frame: Uint8Array,
  geometry: { rows: number; columns: number; samplesPerPixel: number; bitsAllocated: number },
): Uint8Array {
  const { rows, columns, samplesPerPixel, bitsAllocated } = geometry;
  const pixels = rows * columns;
  const bytesPerSample = Math.ceil(bitsAllocated / 8);
  if (frame.byteLength < 64) {
    throw new DicomError(
      'PIXEL_DATA_TRUNCATED',
      `RLE frame: expected a 64-byte header, found ${frame.byteLength} bytes`,
    );
  }
  const header = new DataView(frame.buffer, frame.byteOffset, 64);
  const segmentCount = header.getUint32(0, true);
  const expectedSegments = samplesPerPixel * bytesPerSample;
  if (segmentCount !== expectedSegments) {
    throw new DicomError(
      'DECODE_FAILED',
      `RLE frame: expected ${expectedSegments} segments (${samplesPerPixel} samples × ${bytesPerSample} bytes), found ${segmentCount}`,
    );
  }
  const offsets: number[] = [];
  for (let i = 0; i < segmentCount; i++) offsets.push(header.getUint32(4 + i * 4, true));
  const out = new Uint8Array(pixels * samplesPerPixel * bytesPerSample);
  const stride = samplesPerPixel * bytesPerSample;
  for (let segment = 0; segment < segmentCount; segment++) {
    const start = offsets[segment]!;
    const end = segment + 1 < segmentCount ? offsets[segment + 1]! : frame.byteLength;
    if (start < 64 || start > frame.byteLength || end < start) {
      throw new DicomError(
        'DECODE_FAILED',
        `RLE frame: segment ${segment} offset ${start} lies outside the ${frame.byteLength}-byte frame`,
      );
    }
    const sample = Math.floor(segment / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (segment % bytesPerSample);
    let target = sample * bytesPerSample + byteInSample;
    let written = 0;
    let p = start;
    while (p < end && written < pixels) {
      const n = (frame[p++]! << 24) >> 24;
      if (n >= 0) {
        const count = Math.min(n + 1, pixels - written, end - p);
        for (let k = 0; k < count; k++) {
          out[target] = frame[p++]!;
          target += stride;
        }
        written += count;
      } else if (n !== -128) {
        const value = frame[p++] ?? 0;
        const count = Math.min(1 - n, pixels - written);
        for (let k = 0; k < count; k++) {
          out[target] = value;
          target += stride;
        }
        written += count;
      }
    }
    if (written < pixels) {
      throw new DicomError(
        'PIXEL_DATA_TRUNCATED',
        `RLE frame: segment ${segment} expected ${pixels} bytes, found ${written} before its end`,
      );
    }
  }
  return out;
}
