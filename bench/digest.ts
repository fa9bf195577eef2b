/**
 * Digest and export benchmark (`npm run bench:digest`): a synthetic library of 2,000 episodes
 * published in one week across 50 shows, in Earshot's real schema and artifact files (transcript,
 * summary, insights, graph; canonical entities and mentions; 20 transcript chunks per episode with
 * 384-d vectors), about 200 planted stories (each episode's names and vectors come from its
 * story). Measures, in one run:
 *
 *   - the baseline: every episode's understanding read through pipeline/understand/read.ts
 *     (what a digest that read the whole window would cost);
 *   - a digest of the week grouped by shared names (no embedding model) and by meaning (with one),
 *     target < 2 s; and how well the stories recover the planted ones (purity);
 *   - a full Obsidian export of the 2,000 episodes, against writing the same bytes with
 *     fs.writeFileSync (the I/O floor), and exporting again with nothing changed.
 *
 * The last line is one JSON object of the figures. BENCH_EPISODES (default 2000), BENCH_DIMS (384).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { databasePath, openDatabase, writeTx } from '../pipeline/store/index.ts';
import { episodeUnderstanding } from '../pipeline/understand/read.ts';
import { buildDigest } from '../pipeline/digest/build.ts';
import { exportLibrary } from '../pipeline/export/export.ts';
import { transcriptText } from '../pipeline/understand/text.ts';
import { normalizeName } from '../pipeline/understand/names.ts';

const EPISODES = Number(process.env.BENCH_EPISODES ?? 2000);
const D = Number(process.env.BENCH_DIMS ?? 384);
const SHOWS = 50;
const STORIES = 200;
const SEGMENTS = 300;
const CHUNKS = 20;
const MODEL = 'bench-synthetic-384';
const DAY = 86_400_000;
const TO = Date.UTC(2026, 2, 9);
const FROM = TO - 7 * DAY;

let seed = 7;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)]!;
function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}
const ms = (x: number) => +x.toFixed(1);
/** CPU ms of the last timed() call: wall time lies on a machine shared with other work. */
let lastCpuMs = 0;
function timed<T>(fn: () => T): [T, number] {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const r = fn();
  const wall = performance.now() - t;
  const used = process.cpuUsage(cpu);
  lastCpuMs = (used.user + used.system) / 1000;
  return [r, wall];
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-bench-digest-'));
const dataDir = path.join(root, 'library');
fs.mkdirSync(dataDir);
const db = openDatabase(databasePath(dataDir));

console.log(`Building ${EPISODES} episodes in ${SHOWS} shows, ${STORIES} stories, ${D}-d vectors…`);
const t0 = performance.now();
const syllables = ['ka', 'lo', 'mi', 'ren', 'to', 'sa', 'vel', 'dor', 'an', 'qui', 'bra', 'zen', 'pol', 'ix'];
const name = (n: number) =>
  Array.from({ length: n }, () => {
    const w = pick(syllables) + pick(syllables) + pick(syllables);
    return w[0]!.toUpperCase() + w.slice(1);
  }).join(' ');
const TYPES = ['person', 'organization', 'place', 'topic'] as const;
// Each story: its names (people, organizations, places, topics) and a centroid for its vectors.
const stories = Array.from({ length: STORIES }, () => ({
  names: Array.from({ length: 8 }, (_, i) => ({ name: name(2), type: TYPES[i % 4]! })),
  centroid: unit(Float32Array.from({ length: D }, gauss)),
}));
const generic = Array.from({ length: 40 }, () => ({ name: name(1), type: 'topic' as const }));
const hosts = Array.from({ length: SHOWS }, () => name(2));
const shared = unit(Float32Array.from({ length: D }, gauss));

const words = 'the market rover garden rates crater compost bank samples season election trial'.split(' ');
const sentence = () => `${Array.from({ length: 14 }, () => pick(words)).join(' ')}.`;

const now = Date.now();
const planted = new Map<number, number>();
writeTx(db, 'bench library', () => {
  const feed = db.prepare('INSERT INTO feeds (url, title, created_at) VALUES (?, ?, ?)');
  for (let s = 0; s < SHOWS; s++) feed.run(`https://bench.example/${s}.xml`, `Show ${s + 1}`, now);
  const episode = db.prepare(
    `INSERT INTO episodes (feed_id, key, title, published_at, duration_ms, enclosure_url, created_at, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'transcribed')`,
  );
  const artifact = db.prepare(
    `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, created_at) VALUES (?, ?, ?, 'bench', 1, ?)`,
  );
  const entityRow = db.prepare(
    `INSERT INTO entities (type, name, norm, aliases, episode_count, mention_count, created_at, updated_at)
     VALUES (?, ?, ?, '[]', 0, 0, ?, ?) ON CONFLICT (type, norm) DO UPDATE SET updated_at = excluded.updated_at
     RETURNING id`,
  );
  const mention = db.prepare(
    `INSERT OR IGNORE INTO entity_mentions (episode_id, entity_id, local_id, name, role, mentions, first_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const chunk = db.prepare(
    `INSERT INTO chunks (episode_id, seq, kind, text, start_ms, end_ms, fingerprint) VALUES (?, ?, 'transcript', ?, ?, ?, 'b')`,
  );
  const vector = db.prepare(`INSERT INTO chunk_embeddings (chunk_id, model_id, vector) VALUES (?, ?, ?)`);
  const entityIds = new Map<string, number>();
  const entityId = (n: { name: string; type: string }) => {
    const key = `${n.type}:${n.name}`;
    let id = entityIds.get(key);
    if (id === undefined) {
      id = (entityRow.get(n.type, n.name, normalizeName(n.name), now, now) as { id: number }).id;
      entityIds.set(key, id);
    }
    return id;
  };
  for (let e = 0; e < EPISODES; e++) {
    const show = e % SHOWS;
    const story = Math.floor(rand() * STORIES);
    const key = `bench-${e}`;
    const segments = Array.from({ length: SEGMENTS }, (_, i) => ({
      startMs: i * 6000,
      endMs: i * 6000 + 5800,
      text: `${sentence()} ${sentence()}`,
      ...(i % 5 === 0 ? { speaker: hosts[show]! } : {}),
    }));
    const text = transcriptText(segments);
    const id = Number(
      episode.run(
        show + 1,
        key,
        `Episode ${e}: ${stories[story]!.names[0]!.name}`,
        FROM + Math.floor(rand() * 7 * DAY),
        SEGMENTS * 6000,
        `https://bench.example/media/${key}.mp3`,
        now,
      ).lastInsertRowid,
    );
    planted.set(id, story);
    const names = [
      { name: hosts[show]!, type: 'person' as const, role: 'host' as const },
      ...stories[story]!.names.filter(() => rand() < 0.75).map((n) => ({ ...n, role: 'mentioned' as const })),
      ...Array.from({ length: 4 }, () => ({ ...pick(generic), role: 'mentioned' as const })),
    ];
    const unique = [...new Map(names.map((n) => [`${n.type}:${n.name}`, n])).values()];
    const entities = unique.map((n, i) => ({
      id: `e${i + 1}`,
      name: n.name,
      type: n.type,
      role: n.role,
      aliases: [],
      mentionCount: 1 + Math.floor(rand() * 6),
      mentions: [],
    }));
    const insights = Array.from({ length: 8 }, (_, i) => {
      const seg = 10 + i * 35;
      const q = segments[seg]!.text.split('.')[0]! + '.';
      const charStart = text.starts[seg]!;
      return {
        id: `i${i + 1}`,
        type: (['claim', 'recommendation', 'observation', 'question'] as const)[i % 4],
        text: `${unique[1 + (i % (unique.length - 1))]!.name} ${q}`,
        grounded: true,
        quotes: [
          {
            text: q,
            charStart,
            charEnd: charStart + q.length,
            startMs: segments[seg]!.startMs,
            endMs: segments[seg]!.startMs + 2500,
          },
        ],
      };
    });
    const header = {
      schemaVersion: 1,
      tier: 'classic',
      modelId: null,
      promptVersion: 'bench',
      transcriptSha256: 'bench',
    };
    const files = {
      transcript: path.join(dataDir, 'transcripts', `${key}.publisher.json`),
      summary: path.join(dataDir, 'understand', `${key}.summary.json`),
      gi: path.join(dataDir, 'understand', `${key}.gi.json`),
      kg: path.join(dataDir, 'understand', `${key}.kg.json`),
    };
    fs.mkdirSync(path.dirname(files.transcript), { recursive: true });
    fs.mkdirSync(path.dirname(files.summary), { recursive: true });
    fs.writeFileSync(
      files.transcript,
      JSON.stringify({ schemaVersion: 1, source: 'publisher', format: 'json', timed: true, segments }),
    );
    fs.writeFileSync(
      files.summary,
      JSON.stringify({
        ...header,
        abstract: segments
          .slice(0, 3)
          .map((s) => s.text)
          .join(' '),
        keyPoints: insights.slice(0, 4).map((i) => ({ text: i.quotes[0]!.text, quote: i.quotes[0] })),
        stats: {
          segments: SEGMENTS,
          sentences: SEGMENTS * 2,
          words: SEGMENTS * 28,
          durationMs: SEGMENTS * 6000,
        },
      }),
    );
    fs.writeFileSync(files.gi, JSON.stringify({ ...header, insights }));
    fs.writeFileSync(
      files.kg,
      JSON.stringify({
        ...header,
        episode: { id: 'ep', key, title: null },
        show: null,
        entities,
        relations: [],
      }),
    );
    for (const [kind, file] of Object.entries(files)) artifact.run(id, kind, file, now);
    for (const ent of entities)
      mention.run(id, entityId(ent), ent.id, ent.name, ent.role, ent.mentionCount, 0);
    for (let c = 0; c < CHUNKS; c++) {
      const v = new Float32Array(D);
      // Around the story's centroid, with what every episode of one model shares.
      for (let k = 0; k < D; k++)
        v[k] = stories[story]!.centroid[k]! + 0.8 * shared[k]! + ((0.9 * gauss()) / Math.sqrt(D)) * 4;
      const chunkId = chunk.run(id, c, segments[c]!.text, c * 90_000, c * 90_000 + 90_000).lastInsertRowid;
      vector.run(chunkId, MODEL, Buffer.from(unit(v).buffer));
    }
  }
  db.exec(`UPDATE entities SET episode_count = (SELECT count(*) FROM entity_mentions m WHERE m.entity_id = entities.id),
             mention_count = (SELECT coalesce(sum(mentions), 0) FROM entity_mentions m WHERE m.entity_id = entities.id)`);
});
console.log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s (${root})`);

const ids = (db.prepare('SELECT id FROM episodes ORDER BY id').all() as { id: number }[]).map((r) => r.id);

// Baseline: every episode's understanding, as any digest must read it.
const [, readMs] = timed(() => ids.map((id) => episodeUnderstanding(db, id)));
const readCpuMs = lastCpuMs;

/** Of all episodes, the share whose story's most common planted story is their own. */
function purity(d: ReturnType<typeof buildDigest>): number {
  let right = 0;
  let total = 0;
  for (const s of d.stories) {
    const counts = new Map<number, number>();
    for (const e of s.episodes)
      counts.set(planted.get(e.episodeId)!, (counts.get(planted.get(e.episodeId)!) ?? 0) + 1);
    right += Math.max(...counts.values());
    total += s.episodes.length;
  }
  return total === 0 ? 0 : right / total;
}

const setModel = (id: string | null) =>
  writeTx(db, 'bench model', () => {
    if (id === null) db.prepare(`DELETE FROM settings WHERE key = 'model.active.embedding'`).run();
    else
      db.prepare(
        `INSERT INTO settings (key, value, updated_at) VALUES ('model.active.embedding', ?, 0)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(id);
  });

const options = { from: FROM, to: TO, budgetMs: 30 * 60_000, now: TO };
setModel(null);
buildDigest(db, options); // warm (prepared statements, file cache)
const keywordRuns = [0, 1, 2].map(() => {
  const r = timed(() => buildDigest(db, options));
  return [r[0], r[1], lastCpuMs] as const;
});
const [keywordDigest] = keywordRuns[0]!;
const keywordMs = keywordRuns.map(([, t]) => t).sort((a, b) => a - b)[1]!;
const keywordCpuMs = keywordRuns.map(([, , c]) => c).sort((a, b) => a - b)[1]!;
setModel(MODEL);
const embeddingRuns = [0, 1, 2].map(() => {
  const r = timed(() => buildDigest(db, options));
  return [r[0], r[1], lastCpuMs] as const;
});
const [embeddingDigest] = embeddingRuns[0]!;
const embeddingMs = embeddingRuns.map(([, t]) => t).sort((a, b) => a - b)[1]!;
const embeddingCpuMs = embeddingRuns.map(([, , c]) => c).sort((a, b) => a - b)[1]!;
if (embeddingDigest.grouping.by !== 'embedding')
  throw new Error(`expected grouping by meaning: ${embeddingDigest.notes.join(' ')}`);

console.log(`\nDigest of a week of ${EPISODES} episodes (median of 3)`);
console.log(
  `  baseline, every episode's understanding read via read.ts: ${ms(readMs)} ms, CPU ${ms(readCpuMs)} ms`,
);
for (const [label, d, t, c] of [
  ['by shared names', keywordDigest, keywordMs, keywordCpuMs],
  ['by meaning     ', embeddingDigest, embeddingMs, embeddingCpuMs],
] as const)
  console.log(
    `  ${label}: ${ms(t)} ms, CPU ${ms(c)} ms (${(t / readMs).toFixed(2)}× the baseline; target < 2000 ms) — ${d.stories.length} stories shown, purity ${purity(d).toFixed(3)}, playlist ${Math.round(d.playlist.totalMs / 60_000)} of ${d.playlist.budgetMs / 60_000} min`,
  );

// Export: the whole library as an Obsidian vault, against writing the same bytes directly.
const vault = path.join(root, 'vault');
const [first, exportMs] = timed(() => exportLibrary(db, { dir: vault, format: 'obsidian' }));
const exportCpuMs = lastCpuMs;
const exported = await first;
const allFiles: string[] = [];
const walk = (d: string) => {
  for (const f of fs.readdirSync(d, { withFileTypes: true }))
    if (f.isDirectory()) walk(path.join(d, f.name));
    else allFiles.push(path.join(d, f.name));
};
walk(vault);
const bytes = allFiles.reduce((s, f) => s + fs.statSync(f).size, 0);
const contents = allFiles.map((f) => fs.readFileSync(f));
const floorDir = path.join(root, 'floor');
const [, floorMs] = timed(() => {
  // The same bytes, each file written whole, no reading or rendering.
  contents.forEach((c, i) => {
    const f = path.join(floorDir, String(i % 64), `${i}.md`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, c);
  });
});
const floorCpuMs = lastCpuMs;
const [againPromise, againMs] = timed(() => exportLibrary(db, { dir: vault, format: 'obsidian' }));
const againCpuMs = lastCpuMs;
const again = await againPromise;
console.log(
  `\nFull Obsidian export of ${exported.episodes} episodes and ${exported.entities} people and topics`,
);
console.log(`  ${allFiles.length} notes, ${(bytes / 1024 / 1024).toFixed(1)} MB`);
console.log(
  `  export: ${ms(exportMs)} ms, CPU ${ms(exportCpuMs)} ms (${(exportMs / floorMs).toFixed(2)}× writing the same bytes with fs.writeFileSync: ${ms(floorMs)} ms, CPU ${ms(floorCpuMs)} ms)`,
);
console.log(
  `  export again, nothing changed: ${ms(againMs)} ms, CPU ${ms(againCpuMs)} ms, ${again.written} written, ${again.unchanged} up to date`,
);

db.close();
fs.rmSync(root, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'digest',
    episodes: EPISODES,
    dims: D,
    readFloorMs: ms(readMs),
    digestKeywordsMs: ms(keywordMs),
    digestKeywordsCpuMs: ms(keywordCpuMs),
    digestEmbeddingMs: ms(embeddingMs),
    digestEmbeddingCpuMs: ms(embeddingCpuMs),
    digestTargetMs: 2000,
    purityKeywords: +purity(keywordDigest).toFixed(3),
    purityEmbedding: +purity(embeddingDigest).toFixed(3),
    exportMs: ms(exportMs),
    exportCpuMs: ms(exportCpuMs),
    exportFloorMs: ms(floorMs),
    exportRatio: +(exportMs / floorMs).toFixed(2),
    exportAgainMs: ms(againMs),
    exportAgainCpuMs: ms(againCpuMs),
    exportFiles: allFiles.length,
    exportMB: +(bytes / 1024 / 1024).toFixed(1),
  }),
);
