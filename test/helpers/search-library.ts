import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, databasePath, writeTx, type Db } from '../../pipeline/store/index.ts';
import { parseTranscript, type TranscriptFormat } from '../../pipeline/ingest/transcripts.ts';
import { searchIndex, type SearchIndexOutput } from '../../pipeline/steps/search-index.ts';
import type { EpisodeInput } from '../../pipeline/episode-input.ts';
import { silentLog } from '../../pipeline/base/log.ts';
import { commitSearchIndex } from '../../pipeline/search/step-def.ts';
import type { Json } from '../../pipeline/engine/workflow.ts';
import { ModelManager } from '../../models/manager.ts';
import { tempDir } from './env.ts';
import { makeGloveModel } from './glove-model.ts';

/** A library with episodes indexed for search by the real index step and commit, without the engine. */

export const transcriptFixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/transcripts/${name}`, import.meta.url));

let gloveDir: string | undefined;
/** One GloVe model folder per test process (it takes about half a second to write). */
export function gloveModelDir(): string {
  gloveDir ??= makeGloveModel();
  return gloveDir;
}

export interface Library {
  dataDir: string;
  db: Db;
  /** The embedding model's id, when one was installed. */
  modelId: string | null;
}

export async function newLibrary(options: { embedding?: boolean } = {}): Promise<Library> {
  const dataDir = tempDir('earshot-search-');
  const db = openDatabase(databasePath(dataDir));
  let modelId: string | null = null;
  if (options.embedding) {
    const mm = new ModelManager({ dataDir, db, env: {} });
    const imported = await mm.import(gloveModelDir());
    modelId = imported.model.id;
    mm.use(modelId);
  }
  return { dataDir, db, modelId };
}

export function addFeed(lib: Library, title: string): number {
  const now = Date.now();
  return Number(
    lib.db
      .prepare('INSERT INTO feeds (url, title, created_at) VALUES (?, ?, ?)')
      .run(`https://example.com/${encodeURIComponent(title)}.xml`, title, now).lastInsertRowid,
  );
}

export interface EpisodeSpec {
  feedId: number | null;
  key: string;
  title: string;
  description?: string;
  publishedAt?: number;
  /** A fixture file in test/fixtures/transcripts, or segments. */
  transcript?: string | { startMs: number; endMs: number; text: string }[];
  timed?: boolean;
}

/** Add an episode and run the index step on it (the embedding model, when the library has one). */
export async function addIndexedEpisode(lib: Library, spec: EpisodeSpec): Promise<number> {
  const now = Date.now();
  const episodeId = Number(
    lib.db
      .prepare(
        `INSERT INTO episodes (feed_id, key, title, description, published_at, created_at, status)
         VALUES (?, ?, ?, ?, ?, ?, 'transcribed')`,
      )
      .run(spec.feedId, spec.key, spec.title, spec.description ?? null, spec.publishedAt ?? now, now)
      .lastInsertRowid,
  );
  await indexEpisode(lib, episodeId, spec);
  return episodeId;
}

export async function indexEpisode(
  lib: Library,
  episodeId: number,
  spec: EpisodeSpec,
): Promise<SearchIndexOutput> {
  const outputs: Record<string, Json> = {};
  if (spec.transcript) {
    let transcript;
    if (typeof spec.transcript === 'string') {
      const format = path.extname(spec.transcript).slice(1) as TranscriptFormat;
      transcript = parseTranscript(fs.readFileSync(transcriptFixture(spec.transcript), 'utf8'), format);
    } else {
      transcript = {
        schemaVersion: 1,
        source: 'publisher',
        format: 'json',
        timed: spec.timed ?? true,
        segments: spec.transcript,
      };
    }
    const file = path.join(lib.dataDir, 'transcripts', `${spec.key}.publisher.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(transcript));
    outputs['publisher-transcript'] = {
      transcript: { path: file, format: 'json', segments: 0 },
      chapters: null,
      problems: [],
    };
  }
  const input = { episodeId, key: spec.key, embeddingModel: lib.modelId } as unknown as EpisodeInput;
  const output = await searchIndex({
    workflowId: `wf-${spec.key}`,
    kind: 'episode',
    subject: spec.key,
    step: 'index',
    input,
    outputs,
    run: 1,
    signal: new AbortController().signal,
    dataDir: lib.dataDir,
    device: null,
    log: silentLog,
    progress: () => {},
  });
  writeTx(lib.db, 'test commit', () =>
    commitSearchIndex({
      db: lib.db,
      workflowId: `wf-${spec.key}`,
      kind: 'episode',
      subject: spec.key,
      step: 'index',
      input,
      output,
      fingerprint: 'test',
      fence: 1,
      now: Date.now(),
    }),
  );
  return output;
}
