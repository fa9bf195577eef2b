/**
 * Why a YYYY-MM-DD day (or the date part of an ISO time) cannot be a real day — "2021-13-45 is
 * an impossible date: there is no month 13" — or null when it is one. JavaScript's own parser
 * rolls 2021-02-30 over into March; this one does not.
 */
export function impossibleDay(text: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?=$|T)/.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d] = m.map(Number) as [number, number, number, number];
  if (mo < 1 || mo > 12) return `${m[0]} is an impossible date: there is no month ${mo}.`;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d < 1 || d > days)
    return `${m[0]} is an impossible date: ${new Date(Date.UTC(y, mo - 1, 1)).toLocaleString('en', { month: 'long', timeZone: 'UTC' })} ${y} has ${days} days.`;
  return null;
}
