export interface PdfPage {
  /** Set in 18 pt bold above the body. */
  heading?: string;
  /** Set in 11 pt, wrapped at ~90 characters, a blank line between paragraphs. */
  paragraphs: string[];
}

/**
 * Writes a small, valid PDF 1.4 with a real text layer (Helvetica, WinAnsi) — to test PDF ingestion on text from
 * real sources without committing binary fixtures. Characters outside Latin-1 become "?".
 */
export function writeTextPdf(pages: PdfPage[], title = 'Test document'): Uint8Array {
  const objects: string[] = [];
  const add = (body: string): number => {
    objects.push(body);
    return objects.length;
  };
  const catalog = add('');
  const pagesId = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const bold = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  const info = add(`<< /Title (${escape(title)}) /Producer (medrwr test) >>`);
  const pageIds: number[] = [];
  for (const page of pages) {
    const lines: string[] = ['BT'];
    let y = 760;
    if (page.heading) {
      lines.push(`/F2 18 Tf 72 ${y} Td (${escape(page.heading)}) Tj ET BT`);
      y -= 34;
    }
    for (const paragraph of page.paragraphs) {
      for (const line of wrap(paragraph, 90)) {
        lines.push(`/F1 11 Tf 1 0 0 1 72 ${y} Tm (${escape(line)}) Tj`);
        y -= 14;
      }
      y -= 14;
    }
    lines.push(`/F1 9 Tf 1 0 0 1 300 40 Tm (${pageIds.length + 1}) Tj`, 'ET');
    const content = lines.join('\n');
    const stream = add(`<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`);
    pageIds.push(
      add(
        `<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [0 0 612 792] /Contents ${stream} 0 R ` +
          `/Resources << /Font << /F1 ${font} 0 R /F2 ${bold} 0 R >> >> >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesId} 0 R >>`;
  objects[pagesId - 1] =
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pageIds.length} >>`;
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(pdf, 'latin1'));
}

function escape(text: string): string {
  return text.replace(/[^\x20-\xff]/g, '?').replace(/[\\()]/g, (c) => `\\${c}`);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
