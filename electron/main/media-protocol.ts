import type { Protocol } from 'electron';

/**
 * The window's audio and pictures come through `earshot://app/media/ID` and
 * `earshot://app/artwork/...`, answered by the same code as `earshot serve`'s `/media` and
 * `/artwork` routes (pipeline/listen/assets.ts): the downloaded file with HTTP Range, else the
 * publisher's enclosure streamed through. The scheme is privileged as standard (URLs with a
 * host and path), secure, fetchable and streaming (so <audio> can seek by Range).
 */
export const ASSET_SCHEME = 'earshot';

export const ASSET_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  stream: true,
} as const;

/** Call before the app is ready (Electron requires it). */
export function registerAssetScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([{ scheme: ASSET_SCHEME, privileges: ASSET_SCHEME_PRIVILEGES }]);
}

/** Answer the scheme with `assets` once the app is ready; returns a function that stops answering. */
export function handleAssetScheme(
  protocol: Pick<Protocol, 'handle' | 'unhandle'>,
  assets: { respond(request: Request): Promise<Response> },
): () => void {
  protocol.handle(ASSET_SCHEME, async (request) => {
    try {
      return await assets.respond(request);
    } catch (err) {
      return new Response(`Earshot could not read this file: ${(err as Error).message}`, {
        status: 500,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    }
  });
  return () => protocol.unhandle(ASSET_SCHEME);
}
