import { clause } from '../clause.ts';

/** How Earshot introduces itself to servers (feeds, audio, transcripts, models). */
export const USER_AGENT = 'Earshot/0.1 (+https://earshot.app; podcast app)';

/** A network failure in words a person can act on, with a stable code. */
export interface NetworkProblem {
  code: string;
  message: string;
}

function problem(code: string, message: string): NetworkProblem {
  return { code, message };
}

/** The first error code along an error's causes (undici wraps the socket's error in a TypeError). */
function codeOf(err: unknown): string {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
  }
  return '';
}

/**
 * What went wrong reaching `url` (a timeout, nothing sent for `idleMs`, an unknown host, a refused
 * or broken connection), for ingest's and the model manager's own errors to carry.
 */
export function networkProblem(err: unknown, url: URL, idleMs = 30_000): NetworkProblem {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = codeOf(err);
  const host = url.host;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return problem(
      'HTTP_IDLE',
      `${host} sent nothing for ${Math.round(idleMs / 1000)} s; Earshot stopped waiting and will try again later.`,
    );
  }
  if ((err as Error).name === 'TimeoutError') {
    return problem('HTTP_TIMEOUT', `${host} took too long to answer; Earshot will try again later.`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return problem(
      'HTTP_DNS',
      `Earshot could not find the server ${host}. Check the address, or whether you are offline.`,
    );
  }
  if (code === 'ECONNREFUSED') {
    return problem('HTTP_REFUSED', `${host} refused the connection; Earshot will try again later.`);
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') {
    return problem('HTTP_RESET', `The connection to ${host} broke off; Earshot will try again later.`);
  }
  return problem(
    'HTTP_FAILED',
    `Could not reach ${host}: ${clause(cause?.message ?? (err as Error).message)}.`,
  );
}
