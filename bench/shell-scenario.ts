/**
 * What a person does in the window while `bench:shell` measures the main process: the same calls
 * in both designs, all at once, as clicks would come: the first search of a library whose vector
 * index must be rebuilt, a refresh of a feed with thousands of items, another search, and the
 * list of every episode.
 */
export interface ScenarioSpec {
  feedId: number;
  episodes: number;
  queries: [string, string];
}

export type Call = (method: string, args: unknown[]) => Promise<unknown>;

export async function scenario(call: Call, spec: ScenarioSpec): Promise<Record<string, number>> {
  const timings: Record<string, number> = {};
  const timed = async (name: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    timings[name] = Math.round(performance.now() - t0);
  };
  const t0 = performance.now();
  await Promise.all([
    // The first search loads the embedder and rebuilds the missing vector index.
    timed('searchWithRebuildMs', () => call('search', [spec.queries[0], { limit: 20 }])),
    timed('feedRefreshMs', () => call('refresh', [spec.feedId])),
    timed('searchMs', () => call('search', [spec.queries[1], { limit: 20 }])),
    timed('episodeListMs', async () => {
      const list = (await call('episodes', [{ limit: spec.episodes }])) as unknown[];
      if (list.length < spec.episodes) throw new Error(`the list had ${list.length} episodes`);
    }),
  ]);
  timings.allMs = Math.round(performance.now() - t0);
  return timings;
}
