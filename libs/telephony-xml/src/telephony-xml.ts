/** A parsed XML element: enough for the small, well-formed documents Plivo XML and TwiML are. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e]);

/** How deep elements may nest: Plivo XML and TwiML need 3; a hostile document gets no deeper. */
const MAX_DEPTH = 16;

/**
 * Parses one small document (no comments, CDATA or DTDs); throws on anything malformed or nested
 * deeper than MAX_DEPTH. Used by the simulator to read Maskline's answers, and by the call router
 * to read a customer's TwiML answer.
 */
export function parseXml(xml: string): XmlNode {
  const src = xml.replace(/^\s*<\?xml[^>]*\?>/, '').trim();
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`invalid XML at ${i}: ${why}: ${src.slice(Math.max(0, i - 20), i + 20)}`);
  };
  const node = (depth = 0): XmlNode => {
    if (depth > MAX_DEPTH) fail('nested too deep');
    if (src[i] !== '<') fail('expected <');
    const open = /^<([A-Za-z][\w.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>/.exec(src.slice(i));
    if (!open) fail('bad start tag');
    const [whole, name, rawAttrs, selfClosing] = open as RegExpExecArray;
    i += whole.length;
    const attrs: Record<string, string> = {};
    for (const m of rawAttrs.matchAll(/([\w:.-]+)="([^"]*)"/g)) attrs[m[1]] = decode(m[2]);
    const el: XmlNode = { name, attrs, children: [], text: '' };
    if (selfClosing) return el;
    for (;;) {
      const next = src.indexOf('<', i);
      if (next < 0) fail(`unclosed <${name}>`);
      el.text += decode(src.slice(i, next));
      i = next;
      if (src.startsWith(`</${name}>`, i)) {
        i += name.length + 3;
        el.text = el.text.trim();
        return el;
      }
      if (src.startsWith('</', i)) fail(`mismatched close in <${name}>`);
      el.children.push(node(depth + 1));
    }
  };
  const root = node();
  if (src.slice(i).trim()) fail('trailing content');
  return root;
}
