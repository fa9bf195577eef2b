/**
 * Average-linkage agglomerative clustering (UPGMA) over a dense similarity matrix, cut where
 * the best remaining merge is less similar than `threshold`.
 *
 * The nearest-neighbour chain algorithm (Murtagh, 1983): follow nearest neighbours until two
 * clusters are each other's nearest, merge them, and update the merged cluster's row by
 * Lance–Williams (the size-weighted mean of the two rows). O(n²) time over an n×n matrix, the
 * same dendrogram as the textbook algorithm. Why not a package: ml-hclust's `agnes` (the
 * maintained JavaScript one) scans the whole matrix and copies it for every merge, O(n³): a
 * digest over 2,000 episodes needs this in well under a second.
 *
 * The cut is exact for average linkage: a cluster whose nearest neighbour is below the
 * threshold can never merge again, because its similarity to any later merge of the others is
 * a weighted mean of similarities that are all below the threshold.
 *
 * `sim` is row-major n×n, symmetric; it is overwritten. Returns the clusters as lists of row
 * indices, each in ascending order.
 */
export function averageLinkage(sim: Float32Array, n: number, threshold: number): number[][] {
  if (sim.length < n * n) throw new RangeError(`A ${n}×${n} similarity matrix needs ${n * n} values`);
  const size = new Float64Array(n).fill(1);
  /** 1 while a cluster can still merge. */
  const active = new Uint8Array(n).fill(1);
  const members: number[][] = Array.from({ length: n }, (_, i) => [i]);
  const clusters: number[][] = [];
  const chain: number[] = [];
  let remaining = n;
  let scan = 0;
  while (remaining > 0) {
    if (chain.length === 0) {
      while (!active[scan]) scan++;
      chain.push(scan);
    }
    const a = chain[chain.length - 1]!;
    const previous = chain.length >= 2 ? chain[chain.length - 2]! : -1;
    let best = -1;
    let bestSim = -Infinity;
    const row = a * n;
    for (let j = 0; j < n; j++) {
      if (j === a || !active[j]) continue;
      const s = sim[row + j]!;
      // On a tie, the previous link of the chain wins: the chain never cycles.
      if (s > bestSim || (s === bestSim && j === previous)) {
        bestSim = s;
        best = j;
      }
    }
    if (best < 0 || bestSim < threshold) {
      // Only the chain's first element can get here: any later one has the element before it
      // (at or above the threshold) as a candidate.
      active[a] = 0;
      remaining--;
      clusters.push(members[a]!.sort((x, y) => x - y));
      chain.pop();
      continue;
    }
    if (best !== previous) {
      chain.push(best);
      continue;
    }
    chain.pop();
    chain.pop();
    const [keep, drop] = a < best ? [a, best] : [best, a];
    const sk = size[keep]!;
    const sd = size[drop]!;
    for (let k = 0; k < n; k++) {
      if (!active[k] || k === keep || k === drop) continue;
      const v = (sk * sim[keep * n + k]! + sd * sim[drop * n + k]!) / (sk + sd);
      sim[keep * n + k] = v;
      sim[k * n + keep] = v;
    }
    size[keep] = sk + sd;
    members[keep]!.push(...members[drop]!);
    members[drop] = [];
    active[drop] = 0;
    remaining--;
  }
  return clusters;
}
