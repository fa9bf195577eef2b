/**
 * Show notes are HTML from the feed, written by whoever controls the feed: they are sanitized with
 * DOMPurify to a small set of text tags before the page shows them. Links keep only http(s) and
 * mailto addresses, made absolute against the episode's page, and open outside Earshot (a new
 * tab in a browser; the desktop window hands them to the system browser). Pictures are dropped:
 * a remote image would tell its server when you read the notes. Times written in the notes
 * ("12:34") become buttons that play from there.
 */
import DOMPurify from 'dompurify';

const ALLOWED_TAGS = [
  'a',
  'p',
  'br',
  'strong',
  'b',
  'em',
  'i',
  'u',
  's',
  'del',
  'small',
  'sub',
  'sup',
  'ul',
  'ol',
  'li',
  'blockquote',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'code',
  'pre',
  'span',
  'div',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
];

/** "1:02:03", "12:34" or "2:05" (not a ratio like "3:1"); minutes and seconds under 60. */
const TIMESTAMP = /\b(?:(\d{1,2}):)?([0-5]?\d):([0-5]\d)\b/g;

function absolute(href: string, base: string | null): string | null {
  try {
    const url = base ? new URL(href, base) : new URL(href);
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** Wrap the times in text (not inside links) in buttons that carry the time in ms. */
function linkTimes(root: Node, doc: Document): void {
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.parentElement?.closest('a')) texts.push(n as Text);
  }
  for (const text of texts) {
    const value = text.data;
    TIMESTAMP.lastIndex = 0;
    if (!TIMESTAMP.test(value)) continue;
    TIMESTAMP.lastIndex = 0;
    const parts = doc.createDocumentFragment();
    let at = 0;
    for (const m of value.matchAll(TIMESTAMP)) {
      const [whole, h, mm, ss] = m;
      const ms = ((Number(h ?? 0) * 60 + Number(mm)) * 60 + Number(ss)) * 1000;
      parts.append(doc.createTextNode(value.slice(at, m.index)));
      const button = doc.createElement('button');
      button.type = 'button';
      button.className = 'timestamp';
      button.dataset.seek = String(ms);
      button.textContent = whole;
      parts.append(button);
      at = m.index + whole.length;
    }
    parts.append(doc.createTextNode(value.slice(at)));
    text.replaceWith(parts);
  }
}

/** The notes as a fragment to put into the page (never re-parsed as HTML). */
export function sanitizeNotes(
  html: string,
  base: string | null,
  win: Window & typeof globalThis = window,
): DocumentFragment {
  const purify = DOMPurify(win);
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName !== 'A') return;
    const el = node as Element;
    const href = el.getAttribute('href');
    const safe = href ? absolute(href, base) : null;
    if (!safe) {
      el.removeAttribute('href');
      return;
    }
    el.setAttribute('href', safe);
    el.setAttribute('target', '_blank');
    el.setAttribute('rel', 'noopener noreferrer');
  });
  const fragment = purify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ['href', 'title'],
    ALLOW_DATA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  });
  linkTimes(fragment, win.document);
  return fragment;
}
