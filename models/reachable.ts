/**
 * Whether this machine can reach a host at all: any HTTP answer counts (even an error status),
 * only a network failure or silence past the timeout does not. Used to say what to do when no
 * model can be used: install it (the host answers) or import a file fetched elsewhere.
 */
export async function hostReachable(url: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'HEAD',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
