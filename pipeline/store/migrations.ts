/**
 * Every b-tree a queue transaction touches is a page written per commit, so the engine's tables
 * carry few indexes, and jobs are found through small partial indexes over the states that are
 * looked up. Since migration 6, steps and jobs refer to their workflow by its sequential key
 * (workflows.seq), so the rows one batch or one claim touches sit together on few pages.
 *
 * Numbered migrations, applied in order at open. `PRAGMA user_version` holds the number of the
 * last one applied. Never edit a migration that has shipped: add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'library and engine',
    sql: `
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE episodes (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER REFERENCES feeds(id) ON DELETE CASCADE,
        key TEXT NOT NULL UNIQUE,
        title TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY,
        episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        model_id TEXT,
        prompt_version TEXT,
        created_at INTEGER NOT NULL,
        UNIQUE (episode_id, kind)
      );
      CREATE TABLE workflows (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        input TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'dead', 'cancelled')),
        priority INTEGER NOT NULL DEFAULT 0,
        dead_reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        completed_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX workflows_subject ON workflows (kind, subject);
      CREATE TABLE steps (
        workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        lane TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
        output TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        recoveries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        reused_from TEXT,
        started_at INTEGER,
        finished_at INTEGER,
        PRIMARY KEY (workflow_id, name)
      ) WITHOUT ROWID;
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
        step TEXT NOT NULL,
        lane TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        run_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_pid INTEGER,
        lease_expires_at INTEGER,
        fence INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        recoveries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        claimed_at INTEGER,
        finished_at INTEGER,
        UNIQUE (workflow_id, step)
      );
      CREATE INDEX jobs_claim ON jobs (lane, priority DESC, run_at, id) WHERE state = 'queued';
      CREATE INDEX jobs_running ON jobs (lane) WHERE state = 'running';
      CREATE TABLE lanes (
        name TEXT PRIMARY KEY,
        paused INTEGER NOT NULL DEFAULT 0,
        concurrency INTEGER
      );
    `,
  },
  {
    version: 2,
    name: 'engine processes and workers, visible to other processes',
    sql: `
      CREATE TABLE engines (
        boot_id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        hostname TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        stopped_at INTEGER
      );
      CREATE TABLE workers (
        boot_id TEXT NOT NULL REFERENCES engines(boot_id) ON DELETE CASCADE,
        worker_id TEXT NOT NULL,
        lane TEXT NOT NULL,
        pid INTEGER,
        state TEXT NOT NULL CHECK (state IN ('starting', 'idle', 'busy', 'exited')),
        job_id INTEGER,
        restarts INTEGER NOT NULL DEFAULT 0,
        last_exit TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (boot_id, worker_id)
      );
      ALTER TABLE jobs ADD COLUMN crash_reason TEXT;
    `,
  },
  {
    version: 3,
    name: 'subscriptions and episode identity',
    sql: `
      ALTER TABLE feeds ADD COLUMN description TEXT;
      ALTER TABLE feeds ADD COLUMN link TEXT;
      ALTER TABLE feeds ADD COLUMN image_url TEXT;
      ALTER TABLE feeds ADD COLUMN author TEXT;
      ALTER TABLE feeds ADD COLUMN language TEXT;
      ALTER TABLE feeds ADD COLUMN podcast_guid TEXT;
      ALTER TABLE feeds ADD COLUMN format TEXT;
      ALTER TABLE feeds ADD COLUMN backlog TEXT NOT NULL DEFAULT 'last:3';
      ALTER TABLE feeds ADD COLUMN subscribed_at INTEGER;
      ALTER TABLE feeds ADD COLUMN etag TEXT;
      ALTER TABLE feeds ADD COLUMN last_modified TEXT;
      ALTER TABLE feeds ADD COLUMN last_refresh_at INTEGER;
      ALTER TABLE feeds ADD COLUMN last_success_at INTEGER;
      ALTER TABLE feeds ADD COLUMN last_error TEXT;
      ALTER TABLE feeds ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE feeds ADD COLUMN next_refresh_at INTEGER;
      ALTER TABLE episodes ADD COLUMN key_source TEXT;
      ALTER TABLE episodes ADD COLUMN guid TEXT;
      ALTER TABLE episodes ADD COLUMN description TEXT;
      ALTER TABLE episodes ADD COLUMN link TEXT;
      ALTER TABLE episodes ADD COLUMN published_at INTEGER;
      ALTER TABLE episodes ADD COLUMN duration_ms INTEGER;
      ALTER TABLE episodes ADD COLUMN enclosure_url TEXT;
      ALTER TABLE episodes ADD COLUMN enclosure_type TEXT;
      ALTER TABLE episodes ADD COLUMN enclosure_length INTEGER;
      ALTER TABLE episodes ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE episodes ADD COLUMN status TEXT NOT NULL DEFAULT 'listed';
      ALTER TABLE episodes ADD COLUMN position INTEGER;
      ALTER TABLE episodes ADD COLUMN updated_at INTEGER;
      CREATE INDEX episodes_feed ON episodes (feed_id, published_at DESC);
      CREATE TABLE episode_aliases (
        feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('guid', 'enclosure', 'title-date')),
        value TEXT NOT NULL,
        episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        PRIMARY KEY (feed_id, kind, value)
      );
      CREATE INDEX episode_aliases_episode ON episode_aliases (episode_id);
    `,
  },
  {
    version: 4,
    name: 'feed folders (from OPML)',
    sql: `ALTER TABLE feeds ADD COLUMN folder TEXT;`,
  },
  {
    version: 5,
    name: 'cancelled jobs whose worker is still stopping',
    sql: `CREATE INDEX jobs_cancelling ON jobs (lane, lease_expires_at) WHERE state = 'cancelled' AND lease_expires_at IS NOT NULL;`,
  },
  {
    version: 6,
    name: 'installed models',
    // path: what a loader opens; file: what was verified and must keep its size (both relative
    // to the models folder). A row is written only after the file is complete and verified.
    sql: `
      CREATE TABLE models (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('whisper', 'llm', 'embedding')),
        path TEXT NOT NULL,
        file TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT,
        verified TEXT NOT NULL CHECK (verified IN ('hash', 'size', 'none')),
        source TEXT NOT NULL CHECK (source IN ('catalog', 'import')),
        label TEXT,
        installed_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'queue tables keyed in the order work arrives',
    // A workflow's text id is a hash, so rows keyed by it land on a random page: a batch of
    // enqueues dirtied ~3 pages per workflow and each claim or completion two more. Workflows
    // get a sequential integer key (seq) that steps and jobs refer to (wf_seq), so consecutive
    // work shares pages; the text ids stay, unique and indexed where they are looked up.
    // Renaming first keeps the old foreign keys pointing at the old tables while rows are
    // copied; the old children are dropped before their parent, so nothing cascades.
    sql: `
      DROP INDEX workflows_subject;
      DROP INDEX jobs_claim;
      DROP INDEX jobs_running;
      DROP INDEX jobs_cancelling;
      ALTER TABLE workflows RENAME TO workflows_v5;
      ALTER TABLE steps RENAME TO steps_v5;
      ALTER TABLE jobs RENAME TO jobs_v5;
      CREATE TABLE workflows (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        input TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'dead', 'cancelled')),
        priority INTEGER NOT NULL DEFAULT 0,
        dead_reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        completed_at INTEGER
      );
      CREATE INDEX workflows_subject ON workflows (kind, subject);
      CREATE TABLE steps (
        wf_seq INTEGER NOT NULL REFERENCES workflows(seq) ON DELETE CASCADE,
        workflow_id TEXT NOT NULL,
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        lane TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
        output TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        recoveries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        reused_from TEXT,
        started_at INTEGER,
        finished_at INTEGER,
        PRIMARY KEY (wf_seq, name)
      ) WITHOUT ROWID;
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        wf_seq INTEGER NOT NULL REFERENCES workflows(seq) ON DELETE CASCADE,
        workflow_id TEXT NOT NULL,
        step TEXT NOT NULL,
        lane TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        run_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_pid INTEGER,
        lease_expires_at INTEGER,
        fence INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        recoveries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        crash_reason TEXT,
        created_at INTEGER NOT NULL,
        claimed_at INTEGER,
        finished_at INTEGER,
        UNIQUE (wf_seq, step)
      );
      INSERT INTO workflows (id, kind, subject, fingerprint, input, status, priority, dead_reason,
                             created_at, updated_at, completed_at)
        SELECT id, kind, subject, fingerprint, input, status, priority, dead_reason,
               created_at, updated_at, completed_at
        FROM workflows_v5 ORDER BY created_at, id;
      INSERT INTO steps (wf_seq, workflow_id, name, position, lane, fingerprint, status, output, attempts,
                         recoveries, last_error, reused_from, started_at, finished_at)
        SELECT w.seq, s.workflow_id, s.name, s.position, s.lane, s.fingerprint, s.status, s.output, s.attempts,
               s.recoveries, s.last_error, s.reused_from, s.started_at, s.finished_at
        FROM steps_v5 s JOIN workflows w ON w.id = s.workflow_id ORDER BY w.seq, s.name;
      INSERT INTO jobs (id, wf_seq, workflow_id, step, lane, priority, state, run_at, lease_owner, lease_pid,
                        lease_expires_at, fence, attempts, recoveries, last_error, crash_reason, created_at,
                        claimed_at, finished_at)
        SELECT j.id, w.seq, j.workflow_id, j.step, j.lane, j.priority, j.state, j.run_at, j.lease_owner, j.lease_pid,
               j.lease_expires_at, j.fence, j.attempts, j.recoveries, j.last_error, j.crash_reason, j.created_at,
               j.claimed_at, j.finished_at
        FROM jobs_v5 j JOIN workflows w ON w.id = j.workflow_id ORDER BY j.id;
      DROP TABLE jobs_v5;
      DROP TABLE steps_v5;
      DROP TABLE workflows_v5;
      CREATE INDEX jobs_claim ON jobs (lane, priority DESC, run_at, id) WHERE state = 'queued';
      CREATE INDEX jobs_running ON jobs (lane) WHERE state = 'running';
      CREATE INDEX jobs_cancelling ON jobs (lane, lease_expires_at) WHERE state = 'cancelled' AND lease_expires_at IS NOT NULL;
    `,
  },
  {
    version: 8,
    name: 'one index over queued and running jobs',
    // A claim moved a job from jobs_claim to jobs_running and its completion took it out
    // again: two index pages written per commit. In one index whose running entries sort just
    // before the lane's queued ones (state DESC), both changes land on the same page.
    sql: `
      DROP INDEX jobs_claim;
      DROP INDEX jobs_running;
      CREATE INDEX jobs_active ON jobs (lane, state DESC, priority DESC, run_at, id)
        WHERE state IN ('queued', 'running');
    `,
  },
  {
    version: 9,
    name: 'search: chunks, embeddings, full-text index',
    // chunks: what search finds — transcript passages (sentence-aligned, with times) and an
    // episode's title, show notes and insights (kind). Ids are AUTOINCREMENT because they are
    // the vector index's labels: an id is never reused for other text. chunks_fts is external
    // content over chunks, kept in step by triggers (cascading deletes fire them too).
    // chunk_embeddings.id only grows, so the vector index knows which rows it has not seen.
    sql: `
      CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('transcript', 'title', 'notes', 'insight')),
        text TEXT NOT NULL,
        start_ms INTEGER,
        end_ms INTEGER,
        fingerprint TEXT NOT NULL,
        UNIQUE (episode_id, seq)
      );
      CREATE TABLE chunk_embeddings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        vector BLOB NOT NULL,
        UNIQUE (chunk_id, model_id)
      );
      CREATE INDEX chunk_embeddings_model ON chunk_embeddings (model_id, id);
      CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, content = 'chunks', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
      END;
      CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
      END;
      CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
      END;
    `,
  },
  {
    version: 10,
    name: 'canonical entities across episodes',
    // entities: one row per person/organization/place/topic across the library; norm is the
    // merge key (understand/names.ts). entity_aliases: every normalized name that leads to an
    // entity (its own, and multi-word aliases seen in episodes). entity_mentions: which
    // episodes name it, with the episode's role and mention count; counts on entities are
    // recomputed from it when an episode is (re)understood.
    sql: `
      CREATE TABLE entities (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('person', 'organization', 'place', 'topic')),
        name TEXT NOT NULL,
        norm TEXT NOT NULL,
        aliases TEXT NOT NULL DEFAULT '[]',
        episode_count INTEGER NOT NULL DEFAULT 0,
        mention_count INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (type, norm)
      );
      CREATE INDEX entities_rank ON entities (episode_count DESC, mention_count DESC);
      CREATE TABLE entity_aliases (
        type TEXT NOT NULL,
        norm TEXT NOT NULL,
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        PRIMARY KEY (type, norm)
      ) WITHOUT ROWID;
      CREATE INDEX entity_aliases_entity ON entity_aliases (entity_id);
      CREATE TABLE entity_mentions (
        episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        local_id TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('host', 'guest', 'mentioned')),
        mentions INTEGER NOT NULL,
        first_ms INTEGER,
        PRIMARY KEY (episode_id, entity_id)
      ) WITHOUT ROWID;
      CREATE INDEX entity_mentions_entity ON entity_mentions (entity_id);
    `,
  },
  {
    version: 11,
    name: 'episodes whose title or show notes changed after they were indexed',
    // Set by a feed refresh when an indexed episode's title or show notes change; the next
    // round that starts episodes runs that episode's index step again, and clears it.
    sql: `
      ALTER TABLE episodes ADD COLUMN reindex_at INTEGER;
      CREATE INDEX episodes_reindex ON episodes (reindex_at) WHERE reindex_at IS NOT NULL;
    `,
  },
  {
    version: 12,
    name: 'queue tables without CHECK constraints',
    // A CHECK on a status column made every insert and update of a workflow, step or job
    // slower: the no-op queue benchmark ran 20-30 % faster without them (one worker 7,300 ->
    // 8,700 jobs/s, sixteen finishing together 11,300 -> 14,400, same run). These columns are
    // written only by pipeline/engine/queue.ts, always with literal values, so the constraint
    // checked nothing the code does not already fix. Same rebuild as migration 7: rename, copy,
    // drop the old children before their parent, so nothing cascades.
    sql: `
      DROP INDEX workflows_subject;
      DROP INDEX jobs_active;
      DROP INDEX jobs_cancelling;
      ALTER TABLE workflows RENAME TO workflows_v11;
      ALTER TABLE steps RENAME TO steps_v11;
      ALTER TABLE jobs RENAME TO jobs_v11;
      CREATE TABLE workflows (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        input TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        dead_reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        completed_at INTEGER
      );
      CREATE TABLE steps (
        wf_seq INTEGER NOT NULL REFERENCES workflows(seq) ON DELETE CASCADE,
        workflow_id TEXT NOT NULL,
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        lane TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status TEXT NOT NULL,
        output TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        recoveries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        reused_from TEXT,
        started_at INTEGER,
        finished_at INTEGER,
        PRIMARY KEY (wf_seq, name)
      ) WITHOUT ROWID;
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        wf_seq INTEGER NOT NULL REFERENCES workflows(seq) ON DELETE CASCADE,
        workflow_id TEXT NOT NULL,
        step TEXT NOT NULL,
        lane TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        run_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_pid INTEGER,
        lease_expires_at INTEGER,
        fence INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        recoveries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        crash_reason TEXT,
        created_at INTEGER NOT NULL,
        claimed_at INTEGER,
        finished_at INTEGER,
        UNIQUE (wf_seq, step)
      );
      INSERT INTO workflows SELECT * FROM workflows_v11 ORDER BY seq;
      INSERT INTO steps SELECT * FROM steps_v11 ORDER BY wf_seq, name;
      INSERT INTO jobs (id, wf_seq, workflow_id, step, lane, priority, state, run_at, lease_owner, lease_pid,
                        lease_expires_at, fence, attempts, recoveries, last_error, crash_reason, created_at,
                        claimed_at, finished_at)
        SELECT id, wf_seq, workflow_id, step, lane, priority, state, run_at, lease_owner, lease_pid,
               lease_expires_at, fence, attempts, recoveries, last_error, crash_reason, created_at,
               claimed_at, finished_at
        FROM jobs_v11 ORDER BY id;
      DROP TABLE jobs_v11;
      DROP TABLE steps_v11;
      DROP TABLE workflows_v11;
      CREATE INDEX workflows_subject ON workflows (kind, subject);
      CREATE INDEX jobs_active ON jobs (lane, state DESC, priority DESC, run_at, id)
        WHERE state IN ('queued', 'running');
      CREATE INDEX jobs_cancelling ON jobs (lane, lease_expires_at) WHERE state = 'cancelled' AND lease_expires_at IS NOT NULL;
    `,
  },
  {
    version: 13,
    name: 'entity mentions found by the name an episode used',
    // Search's entity filter also matches the names episodes used (a merge by meaning leaves no
    // alias row); the same expression as the query, so it is an index lookup, not a scan.
    sql: `CREATE INDEX entity_mentions_name ON entity_mentions (lower(name));`,
  },
  {
    version: 14,
    name: 'lane holds: live reasons a lane waits (on battery, a measurement), apart from the user pause',
    // lanes.paused is the user's own pause and only theirs. A hold is live state with a lease: its
    // holder renews it while it lasts; one whose holder stopped or died is void (expired, or its
    // process gone on this machine) and is never read back as a pause after a restart.
    sql: `
      CREATE TABLE lane_holds (
        lane TEXT NOT NULL,
        reason TEXT NOT NULL,
        holder TEXT NOT NULL,
        hostname TEXT NOT NULL,
        pid INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (lane, reason, holder)
      );
    `,
  },
  {
    version: 15,
    name: 'listening: playback state, the inbox, episode lists in pages',
    // playback: where the listener is in an episode and whether it was played (one row per
    // episode once it has been played, started or marked). episodes.inbox_at: when the episode
    // entered the inbox (a refresh found it, or it was a show's newest when subscribing); it
    // leaves when played or removed. The last visit to the inbox is a setting. The episode list
    // is read in pages newest first with an id tiebreak: the index carries both, so an offset
    // deep into a 100,000-episode show skips index entries, not table rows.
    sql: `
      CREATE TABLE playback (
        episode_id INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        position_ms INTEGER NOT NULL DEFAULT 0,
        played_at INTEGER,
        updated_at INTEGER NOT NULL
      );
      ALTER TABLE episodes ADD COLUMN inbox_at INTEGER;
      CREATE INDEX episodes_inbox ON episodes (inbox_at) WHERE inbox_at IS NOT NULL;
      DROP INDEX episodes_feed;
      CREATE INDEX episodes_feed ON episodes (feed_id, published_at DESC, id DESC);
    `,
  },
  {
    version: 16,
    name: 'digests',
    // One row per stored digest (its JSON is digests/<from>-<to>.json beside the library,
    // written whole by the digest workflow's step; the row is its commit). from_ms/to_ms is the
    // window [from, to); scheduled: made by the schedule (the last one's to_ms says when the next
    // is due). Rewriting a window's digest replaces its row.
    sql: `
      CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        from_ms INTEGER NOT NULL,
        to_ms INTEGER NOT NULL,
        path TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        scheduled INTEGER NOT NULL DEFAULT 1,
        stories INTEGER NOT NULL,
        episodes INTEGER NOT NULL,
        workflow_id TEXT,
        created_at INTEGER NOT NULL,
        UNIQUE (from_ms, to_ms)
      );
      CREATE INDEX digests_to ON digests (scheduled, to_ms);
    `,
  },
  {
    version: 17,
    name: 'the knowledge graph: relations with the episodes and quotes that back them',
    // Written by the understand step's commit (pipeline/understand/relations.ts), replaced whole
    // per episode when it is understood again; read by the graph API across the library. Nodes
    // are text ids: 'entity:<entities.id>', 'episode:<episodes.id>', 'show:<feeds.id>',
    // 'insight:<episode id>:<insight id>', 'quote:<episode id>:<charStart>-<charEnd>'. Kinds:
    // host-of, guest-on, mentions, co-occurs, insight-supports, about. `quotes`: JSON spans of
    // the transcript (text, charStart, charEnd, startMs, endMs).
    sql: `
      CREATE TABLE kg_relations (
        episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        weight INTEGER NOT NULL,
        quotes TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (episode_id, kind, source, target)
      ) WITHOUT ROWID;
      CREATE INDEX kg_relations_kind ON kg_relations (kind, source, target);
      CREATE INDEX kg_relations_source ON kg_relations (source);
      CREATE INDEX kg_relations_target ON kg_relations (target);

    `,
  },
  {
    version: 18,
    name: 'waiting workflows and episode notes',
    // A workflow whose next step needs what is not there yet (a Whisper model) waits instead of
    // failing: what it waits for is a key its waker names (waiting_for: 'model:whisper') and a
    // phrase for people (waiting_what: 'a Whisper model'); the partial index holds only waiting
    // workflows, so the queue's hot writes never touch it. An episode's notes are what was
    // skipped without failing it (chapters that would not load), as a JSON array of sentences.
    sql: `
      ALTER TABLE workflows ADD COLUMN waiting_for TEXT;
      ALTER TABLE workflows ADD COLUMN waiting_what TEXT;
      CREATE INDEX workflows_waiting ON workflows (waiting_for) WHERE status = 'waiting';
      ALTER TABLE episodes ADD COLUMN notes TEXT;
    `,
  },
  {
    version: 19,
    name: "a show's own settings, and since when its feed fails",
    // Per feed (Settings of a show, `earshot feed-settings`): auto_process 0 lists new episodes
    // without queueing them; refresh_minutes NULL follows the app's interval (settings
    // 'app.refreshMinutes'); whisper 'always' transcribes even with a publisher's transcript;
    // language_override is what Whisper is told instead of the feed's own language. failing_since
    // is the first failed check after the last success (NULL while checks work); a feed failing
    // already is dated from its last check, the best there is.
    sql: `
      ALTER TABLE feeds ADD COLUMN auto_process INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE feeds ADD COLUMN refresh_minutes INTEGER;
      ALTER TABLE feeds ADD COLUMN whisper TEXT NOT NULL DEFAULT 'auto';
      ALTER TABLE feeds ADD COLUMN language_override TEXT;
      ALTER TABLE feeds ADD COLUMN failing_since INTEGER;
      UPDATE feeds SET failing_since = last_refresh_at WHERE failures > 0;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]?.version ?? 0;
