import { ExtractedText, type ParsedSource } from './ParsedSource';
import { childElements, firstChild, localName, textContent, type XmlElement, type XmlNode } from './xml';

/** Whether a parsed XML document is an OpenStax CNXML module. */
export function isCnxml(root: XmlElement): boolean {
  return localName(root) === 'document' && (root.attributes['xmlns'] ?? '').includes('cnx.rice.edu/cnxml');
}

const paragraphElements = new Set(['para', 'item', 'caption', 'preformat', 'code', 'quote', 'equation', 'title']);
const blockElements = new Set(['list', 'para', 'figure', 'table', 'note', 'media', 'equation', 'preformat']);
const skipped = new Set(['metadata', 'link-group', 'media']);

/**
 * OpenStax CNXML: nested `<section>`s (and their titles) build the heading path; paragraphs, list items, captions,
 * figure alt text, glossary definitions and table rows become paragraphs.
 */
export function parseCnxml(root: XmlElement, fallbackTitle: string): ParsedSource {
  const title =
    normalize(textContent(firstChild(root, 'title') ?? { name: '', attributes: {}, children: [] })) || fallbackTitle;
  const extracted = new ExtractedText();
  const visit = (node: XmlNode, path: string[]): void => {
    if (typeof node === 'string') return;
    const name = localName(node);
    if (skipped.has(name)) {
      if (name === 'media' && node.attributes['alt']) extracted.add(`[Figure: ${node.attributes['alt']}]`, path);
      return;
    }
    if (name === 'section') {
      const sectionTitle = normalize(
        textContent(firstChild(node, 'title') ?? { name: '', attributes: {}, children: [] }),
      );
      const inner = sectionTitle ? [...path, sectionTitle] : path;
      for (const child of node.children) {
        if (typeof child !== 'string' && localName(child) === 'title') continue;
        visit(child, inner);
      }
      return;
    }
    if (name === 'definition') {
      const term = normalize(textContent(firstChild(node, 'term') ?? { name: '', attributes: {}, children: [] }));
      const meanings = childElements(node, 'meaning').map((m) => normalize(textContent(m)));
      extracted.add(term ? `${term}: ${meanings.join(' ')}` : meanings.join(' '), path);
      return;
    }
    if (name === 'row') {
      extracted.add(
        childElements(node)
          .map((cell) => normalize(textContent(cell)))
          .join(' | '),
        path,
      );
      return;
    }
    if (paragraphElements.has(name)) {
      const isBlock = (c: XmlNode): boolean => typeof c !== 'string' && blockElements.has(localName(c));
      if (!node.children.some(isBlock)) {
        extracted.add(textContent(node), path);
        return;
      }
      extracted.add(
        node.children
          .filter((c) => !isBlock(c))
          .map(textContent)
          .join(''),
        path,
      );
      for (const child of node.children) if (isBlock(child)) visit(child, path);
      return;
    }
    for (const child of node.children) visit(child, path);
  };
  const content = firstChild(root, 'content');
  if (content) visit(content, []);
  const glossary = firstChild(root, 'glossary');
  if (glossary) visit(glossary, ['Glossary']);
  return {
    title,
    format: 'cnxml',
    license: null,
    attribution: null,
    documents: [
      { id: firstChild(root, 'metadata') ? moduleId(root) : null, title, url: null, paragraphs: extracted.paragraphs },
    ],
  };
}

function moduleId(root: XmlElement): string | null {
  const metadata = firstChild(root, 'metadata');
  const id = metadata ? firstChild(metadata, 'content-id') : undefined;
  return id ? normalize(textContent(id)) : null;
}

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
