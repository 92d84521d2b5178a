import { InvalidInputError } from '../../errors/AppError';
import { ExtractedText, type ParsedDocument, type ParsedSource } from './ParsedSource';
import { childElements, textContent, type XmlElement } from './xml';

export const medquadLicense = 'CC BY 4.0';
export const medquadAttribution =
  'MedQuAD: A. Ben Abacha and D. Demner-Fushman, "A Question-Entailment Approach to Question Answering", ' +
  'BMC Bioinformatics 20:511 (2019); answers from NIH websites (github.com/abachaa/MedQuAD)';

/** Child elements by name, ignoring case (MedQuAD collections spell `<QAPairs>`/`<qaPairs>`, `<QAPair>`/`<pair>`). */
function children(element: XmlElement, ...names: string[]): XmlElement[] {
  const wanted = names.map((n) => n.toLowerCase());
  return childElements(element).filter((c) => wanted.includes(c.name.toLowerCase()));
}

/** Whether a parsed XML document is a MedQuAD file (`<Document>`, `<DiseaseFile>` or `<doc>` with QA pairs). */
export function isMedquad(root: XmlElement): boolean {
  return children(root, 'QAPairs').length > 0;
}

/**
 * MedQuAD XML: one document per question/answer pair, titled by the question, with the focus and the question as
 * its heading path and the NIH page as its URL. Pairs without an answer (MedQuAD withholds some) are skipped.
 */
export function parseMedquad(root: XmlElement, what: string): ParsedSource {
  const focusElement = children(root, 'Focus', 'doctitle-focus')[0];
  const focus = focusElement ? textContent(focusElement).replace(/\s+/g, ' ').trim() : '';
  const url = root.attributes['url'] ?? null;
  const pairs = children(children(root, 'QAPairs')[0]!, 'QAPair', 'pair');
  const documentId = root.attributes['id'] ?? root.attributes['fid'] ?? root.attributes['docid'] ?? null;
  const documents: ParsedDocument[] = [];
  for (const pair of pairs) {
    const question = children(pair, 'Question')[0];
    const answer = children(pair, 'Answer')[0];
    if (!question)
      throw new InvalidInputError(
        what,
        'a <Question> in every <QAPair>',
        `<QAPair pid="${pair.attributes['pid'] ?? '?'}"> without one`,
      );
    const questionText = textContent(question).replace(/\s+/g, ' ').trim();
    const answerText = answer ? textContent(answer) : '';
    if (!answerText.trim()) continue;
    const extracted = new ExtractedText();
    const headingPath = focus ? [focus, questionText] : [questionText];
    for (const paragraph of answerText.split(/\n[ \t]*\n/)) extracted.add(paragraph, headingPath);
    documents.push({
      id: question.attributes['qid'] ?? `${documentId ?? '?'}-${pair.attributes['pid'] ?? documents.length + 1}`,
      title: questionText,
      url,
      paragraphs: extracted.paragraphs,
    });
  }
  const source = root.attributes['source'] ?? root.attributes['corpus'];
  return {
    title: focus ? `${focus} (MedQuAD${source ? `, ${source}` : ''})` : `MedQuAD ${documentId ?? ''}`.trim(),
    format: 'medquad-xml',
    license: medquadLicense,
    attribution: medquadAttribution,
    documents,
  };
}
