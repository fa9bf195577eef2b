/**
 * Text from elsewhere (an error's message, a reason) put inside a sentence of ours: without its
 * own closing period, so "…: it failed." never ends "failed..".
 */
export function clause(text: string): string {
  return text.trim().replace(/\s*\.+$/, '');
}
