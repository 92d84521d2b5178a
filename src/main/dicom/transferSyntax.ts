/** How the pixel data of a transfer syntax is encoded, which picks the decoder. */
export type PixelEncoding =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'htj2k'
  | 'jpeg-xl'
  | 'video'
  | 'reference';

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  encoding: PixelEncoding;
  /** Byte order of native pixel data (encapsulated streams carry their own). */
  littleEndian: boolean;
  encapsulated: boolean;
}

const table: [string, string, PixelEncoding][] = [
  ['1.2.840.10008.1.2', 'Implicit VR Little Endian', 'native'],
  ['1.2.840.10008.1.2.1', 'Explicit VR Little Endian', 'native'],
  ['1.2.840.10008.1.2.1.98', 'Encapsulated Uncompressed Explicit VR Little Endian', 'native'],
  ['1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native'],
  ['1.2.840.10008.1.2.2', 'Explicit VR Big Endian', 'native'],
  ['1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'],
  ['1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg-baseline'],
  ['1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', 'jpeg-extended'],
  ['1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg-lossless'],
  [
    '1.2.840.10008.1.2.4.70',
    'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)',
    'jpeg-lossless',
  ],
  ['1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'],
  ['1.2.840.10008.1.2.4.81', 'JPEG-LS Near-Lossless', 'jpeg-ls'],
  ['1.2.840.10008.1.2.4.90', 'JPEG 2000 (Lossless Only)', 'jpeg2000'],
  ['1.2.840.10008.1.2.4.91', 'JPEG 2000', 'jpeg2000'],
  ['1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component (Lossless Only)', 'jpeg2000'],
  ['1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component', 'jpeg2000'],
  ['1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)', 'htj2k'],
  ['1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL (Lossless Only)', 'htj2k'],
  ['1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000', 'htj2k'],
  ['1.2.840.10008.1.2.4.110', 'JPEG XL Lossless', 'jpeg-xl'],
  ['1.2.840.10008.1.2.4.111', 'JPEG XL JPEG Recompression', 'jpeg-xl'],
  ['1.2.840.10008.1.2.4.112', 'JPEG XL', 'jpeg-xl'],
  ['1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level', 'video'],
  ['1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile / High Level', 'video'],
  ['1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile', 'video'],
  ['1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile', 'video'],
  ['1.2.840.10008.1.2.4.104', 'MPEG-4 AVC/H.264 High Profile For 2D Video', 'video'],
  ['1.2.840.10008.1.2.4.105', 'MPEG-4 AVC/H.264 High Profile For 3D Video', 'video'],
  ['1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile', 'video'],
  ['1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile', 'video'],
  ['1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile', 'video'],
  ['1.2.840.10008.1.2.4.94', 'JPIP Referenced', 'reference'],
  ['1.2.840.10008.1.2.4.95', 'JPIP Referenced Deflate', 'reference'],
  ['1.2.840.10008.1.2.4.204', 'JPIP HTJ2K Referenced', 'reference'],
  ['1.2.840.10008.1.2.4.205', 'JPIP HTJ2K Referenced Deflate', 'reference'],
];

const byUid = new Map<string, TransferSyntaxInfo>(
  table.map(([uid, name, encoding]) => [
    uid,
    {
      uid,
      name,
      encoding,
      littleEndian: uid !== '1.2.840.10008.1.2.2',
      encapsulated: encoding !== 'native' || uid === '1.2.840.10008.1.2.1.98',
    },
  ]),
);

/** The transfer syntax's decoding facts, or null for a UID this app does not know. */
export function transferSyntaxInfo(uid: string): TransferSyntaxInfo | null {
  return byUid.get(uid.trim()) ?? null;
}

export const implicitVrLittleEndian = '1.2.840.10008.1.2';
