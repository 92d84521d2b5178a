import { InvalidInputError } from '../../errors/AppError';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const startTag = /<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const namedEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/**
 * A small, strict XML reader for document formats (MedQuAD, CNXML): elements, attributes, text, CDATA, comments,
 * processing instructions and a DOCTYPE are understood; mismatched or unclosed tags throw INVALID_INPUT with the
 * line, so a malformed file becomes a per-file error instead of silently wrong passages. No DTDs, no external entities.
 */
export function parseXml(xml: string, what: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [] };
  const stack: XmlElement[] = [root];
  let i = 0;
  const fail = (expected: string, found: string): never => {
    const line = xml.slice(0, i).split('\n').length;
    throw new InvalidInputError(`${what} (XML line ${line})`, expected, found);
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      appendText(stack[stack.length - 1]!, decodeEntities(xml.slice(i)));
      break;
    }
    if (lt > i) appendText(stack[stack.length - 1]!, decodeEntities(xml.slice(i, lt)));
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) fail('"-->" closing a comment', 'end of file');
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i + 9);
      if (end < 0) fail('"]]>" closing a CDATA section', 'end of file');
      appendText(stack[stack.length - 1]!, xml.slice(i + 9, end));
      i = end + 3;
    } else if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i + 2);
      if (end < 0) fail('"?>" closing a processing instruction', 'end of file');
      i = end + 2;
    } else if (xml.startsWith('<!', i)) {
      let depth = 0;
      let j = i + 2;
      for (; j < xml.length; j++) {
        const c = xml[j];
        if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (c === '>' && depth <= 0) break;
      }
      if (j >= xml.length) fail('">" closing a declaration', 'end of file');
      i = j + 1;
    } else if (xml.startsWith('</', i)) {
      const end = xml.indexOf('>', i);
      if (end < 0) fail('">" closing an end tag', 'end of file');
      const name = xml.slice(i + 2, end).trim();
      const open = stack.pop();
      if (!open || open === root) fail('no end tag at top level', `</${name}>`);
      if (open!.name !== name) fail(`</${open!.name}>`, `</${name}>`);
      i = end + 1;
    } else {
      startTag.lastIndex = i;
      const match = startTag.exec(xml);
      if (!match) fail('a well-formed start tag', JSON.stringify(xml.slice(i, i + 40)));
      const element: XmlElement = { name: match![1]!, attributes: parseAttributes(match![2]!), children: [] };
      stack[stack.length - 1]!.children.push(element);
      if (!match![3]) stack.push(element);
      i += match![0].length;
    }
  }
  if (stack.length > 1) fail(`</${stack[stack.length - 1]!.name}>`, 'end of file');
  const documentElement = root.children.find((c): c is XmlElement => typeof c !== 'string');
  if (!documentElement) throw new InvalidInputError(what, 'an XML document element', 'no element');
  return documentElement;
}

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const m of source.matchAll(/([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attributes[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
  }
  return attributes;
}

function appendText(parent: XmlElement, text: string): void {
  if (!text) return;
  const last = parent.children[parent.children.length - 1];
  if (typeof last === 'string') parent.children[parent.children.length - 1] = last + text;
  else parent.children.push(text);
}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code =
        entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return namedEntities[entity] ?? whole;
  });
}

/** Local name without a namespace prefix ("md:title" → "title"). */
export function localName(element: XmlElement): string {
  const colon = element.name.indexOf(':');
  return colon < 0 ? element.name : element.name.slice(colon + 1);
}

export function childElements(element: XmlElement, name?: string): XmlElement[] {
  return element.children.filter(
    (c): c is XmlElement => typeof c !== 'string' && (name === undefined || localName(c) === name),
  );
}

export function firstChild(element: XmlElement, name: string): XmlElement | undefined {
  return childElements(element, name)[0];
}

/** All text below an element, in document order. */
export function textContent(node: XmlNode): string {
  if (typeof node === 'string') return node;
  let text = '';
  for (const child of node.children) text += textContent(child);
  return text;
}
