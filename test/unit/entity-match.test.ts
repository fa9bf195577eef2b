import { afterEach, describe, expect, it } from 'vitest';
import { loadEmbedder } from '../../pipeline/search/embed.ts';
import { namesCompatible, proposeEntityMatches } from '../../pipeline/understand/entity-match.ts';
import {
  mergeEpisodeEntities,
  proposalMatcher,
  type EpisodeEntity,
} from '../../pipeline/understand/canonical.ts';
import { canonicalEntities, canonicalEntity } from '../../pipeline/understand/read.ts';
import { openDatabase, databasePath, type Db } from '../../pipeline/store/index.ts';
import type { EntityType } from '../../pipeline/understand/types.ts';
import { gloveModelDir } from '../helpers/search-library.ts';
import { tempDir } from '../helpers/env.ts';

/**
 * Entities merged by meaning: real name embeddings from the GloVe word-average model (a real
 * transformers.js model, test/helpers/glove-model.ts), proposals checked by the commit's merge.
 */

describe('which names may be compared by meaning', () => {
  it('only written-out variants of one another, of one type', () => {
    const yes: [EntityType, string, string][] = [
      ['organization', 'OpenAI', 'Open AI Inc'],
      ['organization', 'Deutsche Bank', 'Deutsche Bank Group'],
      ['organization', 'EU', 'European Union'],
      ['organization', 'USA', 'United States of America'],
      ['topic', 'interest rate', 'interest rates'],
      ['person', 'Sarah Chen', 'Sarah J. Chen'],
      ['person', 'Sarah Chen', 'Dr. Sarah Jane Chen'],
    ];
    const no: [EntityType, string, string][] = [
      // Different surnames, or different first names: never, however alike by meaning.
      ['person', 'John Smith', 'John Jones'],
      ['person', 'Bob Smith', 'Robert Smith'],
      ['person', 'Sarah Chen', 'Sarah Lee Wong'],
      // A single-word person is canonical.ts's own rule's business.
      ['person', 'Lex', 'Lex Fridman'],
      ['organization', 'Stanford University', 'Harvard University'],
      ['organization', 'Oxford University', 'Oxford University Press'],
      ['organization', 'Federal Reserve Bank', 'Federal Reserve Bank of New York'],
      ['organization', 'Apple', 'Apple Music'],
      ['topic', 'Apollo 11', 'Apollo 13'],
      ['topic', 'World War I', 'World War II'],
      ['place', 'New York', 'New York City'],
      // The same key merges by name already.
      ['organization', 'Acme', 'Acme, Inc.'],
    ];
    for (const [type, a, b] of yes) {
      expect(namesCompatible(type, a, b), `${a} / ${b}`).toBe(true);
      expect(namesCompatible(type, b, a), `${b} / ${a}`).toBe(true);
    }
    for (const [type, a, b] of no) {
      expect(namesCompatible(type, a, b), `${a} / ${b}`).toBe(false);
      expect(namesCompatible(type, b, a), `${b} / ${a}`).toBe(false);
    }
  });
});

describe('entities merged by meaning with a real embedding model', () => {
  const dbs: Db[] = [];
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
  });

  function library(): Db {
    const db = openDatabase(databasePath(tempDir()));
    dbs.push(db);
    db.prepare(
      `INSERT INTO feeds (id, url, title, created_at) VALUES (1, 'http://x/feed', 'Money Talk', 0)`,
    ).run();
    for (const id of [1, 2, 3])
      db.prepare(
        `INSERT INTO episodes (id, feed_id, key, title, published_at, created_at) VALUES (?, 1, ?, ?, ?, 0)`,
      ).run(id, `k${id}`, `Episode ${id}`, id * 86_400_000);
    return db;
  }

  const entity = (id: string, name: string, type: EntityType): EpisodeEntity => ({
    id,
    name,
    type,
    role: 'mentioned',
    aliases: [],
    mentionCount: 2,
  });

  const episode1 = [
    entity('e1', 'Deutsche Bank', 'organization'),
    entity('e2', 'Stanford University', 'organization'),
    entity('e3', 'Amnesty International', 'organization'),
    entity('e4', 'John Smith', 'person'),
  ];
  const episode2 = [
    entity('e1', 'Deutsche Bank Group', 'organization'),
    entity('e2', 'Harvard University', 'organization'),
    entity('e3', 'AI', 'organization'),
    entity('e4', 'John Jones', 'person'),
  ];

  /** What the understand step does: candidates from the library, proposals from the model, then the commit's merge. */
  async function understand(db: Db, episodeId: number, entities: EpisodeEntity[], withModel: boolean) {
    let proposals = {};
    if (withModel) {
      const embedder = await loadEmbedder('glove-test', gloveModelDir(), { threads: 1 });
      const candidates = (
        db
          .prepare(
            `SELECT e.id, e.type, e.name, e.aliases FROM entities e
             WHERE EXISTS (SELECT 1 FROM entity_mentions m WHERE m.entity_id = e.id AND m.episode_id != ?)`,
          )
          .all(episodeId) as { id: number; type: EntityType; name: string; aliases: string }[]
      ).map((r) => ({ ...r, aliases: JSON.parse(r.aliases) as string[] }));
      proposals = await proposeEntityMatches(entities, candidates, (t) => embedder.embed(t));
    }
    const firstMs = Object.fromEntries(entities.map((e) => [e.id, 1000]));
    db.transaction(() =>
      mergeEpisodeEntities(db, episodeId, 1, entities, firstMs, 1000 + episodeId, proposalMatcher(proposals)),
    )();
    return proposals;
  }

  const names = (db: Db) =>
    canonicalEntities(db)
      .map((e) => `${e.name}: ${e.episodeCount}`)
      .sort();

  it('merges "Deutsche Bank Group" into "Deutsche Bank" with the model, and not without it', async () => {
    const without = library();
    await understand(without, 1, episode1, false);
    await understand(without, 2, episode2, false);
    expect(names(without)).toEqual([
      'AI: 1',
      'Amnesty International: 1',
      'Deutsche Bank Group: 1',
      'Deutsche Bank: 1',
      'Harvard University: 1',
      'John Jones: 1',
      'John Smith: 1',
      'Stanford University: 1',
    ]);

    const db = library();
    expect(await understand(db, 1, episode1, true)).toEqual({});
    const proposals = await understand(db, 2, episode2, true);
    const bank = canonicalEntities(db).find((e) => e.name === 'Deutsche Bank')!;
    // Only the bank: "Harvard University" and "John Jones" are never compared with the others,
    // and "AI" is no acronym of Amnesty International by meaning (GloVe: cosine about 0.1).
    expect(proposals).toEqual({
      e1: { canonicalId: bank.id, localId: null, matchedName: 'Deutsche Bank', score: expect.any(Number) },
    });
    expect((proposals as Record<string, { score: number }>).e1!.score).toBeGreaterThan(0.85);
    expect(names(db)).toEqual([
      'AI: 1',
      'Amnesty International: 1',
      'Deutsche Bank: 2',
      'Harvard University: 1',
      'John Jones: 1',
      'John Smith: 1',
      'Stanford University: 1',
    ]);
    // The name the episode used is listed with the entity and its episode.
    expect(bank.aliases).toEqual(['Deutsche Bank Group']);
    expect(canonicalEntity(db, bank.id).episodes.map((e) => [e.episodeId, e.name])).toEqual([
      [2, 'Deutsche Bank Group'],
      [1, 'Deutsche Bank'],
    ]);
  });

  it('leaves no merge behind when the episode is understood again without the model, and merges again with it', async () => {
    const db = library();
    await understand(db, 1, episode1, true);
    await understand(db, 2, episode2, true);
    expect(names(db)).toContain('Deutsche Bank: 2');
    // A merge by meaning adds no alias row: the written name still leads nowhere.
    expect(
      db.prepare(`SELECT count(*) AS n FROM entity_aliases WHERE norm = 'deutsche bank group'`).get(),
    ).toEqual({ n: 0 });

    await understand(db, 2, episode2, false);
    expect(names(db)).toEqual(expect.arrayContaining(['Deutsche Bank: 1', 'Deutsche Bank Group: 1']));
    const bank = canonicalEntities(db).find((e) => e.name === 'Deutsche Bank')!;
    expect(bank.aliases).toEqual([]);

    // With the model again, the entity a run without it made for this episode alone gives way.
    await understand(db, 2, episode2, true);
    expect(names(db)).toContain('Deutsche Bank: 2');
    expect(names(db)).not.toContain('Deutsche Bank Group: 1');
    expect(db.prepare(`SELECT count(*) AS n FROM entities WHERE name = 'Deutsche Bank Group'`).get()).toEqual(
      {
        n: 0,
      },
    );
  });

  it('merges within an episode, and takes no proposal for an entity that has changed since', async () => {
    const db = library();
    const both = [
      entity('e1', 'Deutsche Bank', 'organization'),
      entity('e2', 'Deutsche Bank Group', 'organization'),
    ];
    const embedder = await loadEmbedder('glove-test', gloveModelDir(), { threads: 1 });
    const proposals = await proposeEntityMatches(both, [], (t) => embedder.embed(t));
    expect(proposals).toEqual({
      e2: { canonicalId: null, localId: 'e1', matchedName: 'Deutsche Bank', score: expect.any(Number) },
    });
    const mapping = db.transaction(() =>
      mergeEpisodeEntities(db, 1, 1, both, {}, 1000, proposalMatcher(proposals)),
    )();
    expect(mapping.get('e2')).toBe(mapping.get('e1'));

    // A proposal names entity 1 as "Deutsche Bank"; by commit time that id is something else.
    db.prepare(`UPDATE entities SET name = 'Commerzbank', norm = 'commerzbank' WHERE id = ?`).run(
      mapping.get('e1'),
    );
    const stale = {
      e1: { canonicalId: mapping.get('e1')!, localId: null, matchedName: 'Deutsche Bank', score: 0.97 },
    };
    const later = db.transaction(() =>
      mergeEpisodeEntities(
        db,
        2,
        1,
        [entity('e1', 'Deutsche Bank Group', 'organization')],
        {},
        2000,
        proposalMatcher(stale),
      ),
    )();
    expect(later.get('e1')).not.toBe(mapping.get('e1'));
    // Nor one of another type.
    const typed = {
      e1: { canonicalId: mapping.get('e1')!, localId: null, matchedName: 'Commerzbank', score: 0.97 },
    };
    const other = db.transaction(() =>
      mergeEpisodeEntities(
        db,
        3,
        1,
        [entity('e1', 'Commerzbank Tower', 'place')],
        {},
        3000,
        proposalMatcher(typed),
      ),
    )();
    expect(other.get('e1')).not.toBe(mapping.get('e1'));
  });
});
