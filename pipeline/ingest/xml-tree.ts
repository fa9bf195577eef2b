import { Parser } from 'htmlparser2';

/**
 * XML (feeds, OPML) → a plain object tree: each element an object whose attributes are "@_name"
 * keys, whose text is "#text", and whose child elements are arrays under their tag names.
 *
 * htmlparser2 in XML mode reads it: fast, tolerant of the broken markup feeds are full of, and it
 * never expands entities or loads DTDs — so billion-laughs and XXE documents are inert. Entity
 * references stay as written; callers decode text once with `entities`.
 */
export type XmlNode = { [key: string]: unknown };

export function parseXmlTree(doc: string): XmlNode {
  const root: XmlNode = {};
  const stack: { node: XmlNode; text: string[] }[] = [{ node: root, text: [] }];
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        const node: XmlNode = {};
        for (const [k, v] of Object.entries(attribs)) node[`@_${k}`] = v;
        const parent = stack[stack.length - 1]!.node;
        const list = parent[name];
        if (Array.isArray(list)) list.push(node);
        else parent[name] = [node];
        stack.push({ node, text: [] });
      },
      ontext(text) {
        stack[stack.length - 1]!.text.push(text);
      },
      onclosetag() {
        if (stack.length <= 1) return;
        const { node, text } = stack.pop()!;
        const joined = text.join('').trim();
        if (joined) node['#text'] = joined;
      },
    },
    { xmlMode: true, decodeEntities: false, recognizeCDATA: true, recognizeSelfClosing: true },
  );
  parser.write(doc);
  parser.end();
  return root;
}
