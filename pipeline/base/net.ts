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

/**
 * What went wrong reaching `url` (a timeout, an unknown host, a refused or broken connection),
 * for ingest's and the model manager's own errors to carry.
 */
export function networkProblem(err: unknown, url: URL): NetworkProblem {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code ?? '';
  const host = url.host;
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
  return problem('HTTP_FAILED', `Could not reach ${host}: ${cause?.message ?? (err as Error).message}.`);
}
