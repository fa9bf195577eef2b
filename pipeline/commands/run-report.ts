import type { Db } from '../store/db.ts';
import type { Engine } from '../engine/engine.ts';
import type { Lane } from '../engine/workflow.ts';
import type { EpisodeRefView } from '../api/contract.ts';
import { episodeRefs } from '../api/failures.ts';
import { count, episodeLabel } from './io.ts';

/**
 * What `earshot run` says while it works: a start line, live progress (a bar redrawn in place on
 * a terminal; otherwise a plain line when a step starts, at most one a second), one line per
 * episode that finished, failed or now waits, and a closing summary. With --json, the same as
 * JSON lines (one event per line) and nothing else.
 */

export interface RunReportOptions {
  db: Db;
  dataDir: string;
  lanes: Record<Lane, number>;
  write: (text: string) => void;
  /** A terminal: the progress bar is redrawn in place. */
  tty: boolean;
  json: boolean;
  untilIdle: boolean;
  /** Terminal width for the bar line. Default 80. */
  columns?: number;
  now?: () => number;
}

export interface RunSummary {
  done: number;
  failed: number;
  /** Episodes waiting now (in the whole library), by what they wait for. */
  waiting: { what: string; resource: string; episodes: number }[];
}

const VERBS: Record<string, string> = {
  download: 'downloading',
  'publisher-transcript': "fetching the publisher's transcript of",
  decode: 'decoding',
  transcribe: 'transcribing',
  understand: 'understanding',
  index: 'indexing',
};

interface Running {
  workflowId: string;
  step: string;
  fraction: number;
}

export class RunReport {
  private readonly o: RunReportOptions;
  private readonly running = new Map<number, Running>();
  /** Each workflow seen: its kind, and its episode when it is an episode's (read once). */
  private readonly workflows = new Map<string, { kind: string | null; ref: EpisodeRefView | null }>();
  private done = 0;
  private failed = 0;
  private lastLine = 0;
  private lastDraw = 0;
  private drawn = false;
  private drawnText = '';
  private lastProgressEvent = new Map<number, number>();

  constructor(options: RunReportOptions) {
    this.o = options;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private event(payload: Record<string, unknown>): void {
    this.o.write(`${JSON.stringify(payload)}\n`);
  }

  /** A whole line, above the bar when one is drawn. */
  private line(text: string): void {
    if (this.drawn) this.o.write('\r\x1b[K');
    this.drawn = false;
    this.o.write(`${text}\n`);
    this.redraw(true);
  }

  private workflow(workflowId: string): { kind: string | null; ref: EpisodeRefView | null } {
    let w = this.workflows.get(workflowId);
    if (!w) {
      const wf = this.o.db.prepare('SELECT kind, subject FROM workflows WHERE id = ?').get(workflowId) as
        { kind: string; subject: string } | undefined;
      w = {
        kind: wf?.kind ?? null,
        ref: wf?.kind === 'episode' ? (episodeRefs(this.o.db, [wf.subject]).get(wf.subject) ?? null) : null,
      };
      this.workflows.set(workflowId, w);
    }
    return w;
  }

  private episode(workflowId: string): EpisodeRefView | null {
    return this.workflow(workflowId).ref;
  }

  private isEpisode(workflowId: string): boolean {
    return this.workflow(workflowId).kind === 'episode';
  }

  private label(workflowId: string, max?: number): string {
    const e = this.episode(workflowId);
    return e ? episodeLabel(e, max) : workflowId;
  }

  /** Episodes queued or running now (every process's). */
  private pending(): number {
    return (
      this.o.db
        .prepare(
          `SELECT count(*) AS n FROM workflows WHERE kind = 'episode' AND status IN ('queued', 'running')`,
        )
        .get() as { n: number }
    ).n;
  }

  start(): void {
    const pending = this.pending();
    if (this.o.json) {
      this.event({ event: 'start', dataDir: this.o.dataDir, episodes: pending, lanes: this.o.lanes });
      return;
    }
    const workers = (['gpu', 'cpu', 'io'] as const).map((l) => `${l} ${this.o.lanes[l]}`).join(', ');
    const what = pending === 0 ? 'nothing to process yet' : `${count(pending, 'episode')} to process`;
    this.line(
      `Earshot is working on ${this.o.dataDir}: ${what} (workers: ${workers}). ${
        this.o.untilIdle ? 'It stops when nothing is left.' : 'Ctrl-C stops it once running steps finish.'
      }`,
    );
  }

  attach(engine: Engine): void {
    engine.on('started', (s) => {
      this.running.set(s.jobId, { workflowId: s.workflowId, step: s.step, fraction: 0 });
      if (this.o.json) {
        this.event({
          event: 'step',
          workflowId: s.workflowId,
          episode: this.episode(s.workflowId),
          step: s.step,
        });
        return;
      }
      if (!this.o.tty && this.now() - this.lastLine >= 1000) {
        this.lastLine = this.now();
        this.line(this.progressText(s.jobId));
      }
      this.redraw();
    });
    engine.on('progress', (p) => {
      const r = this.running.get(p.jobId);
      if (r) r.fraction = p.fraction;
      if (this.o.json) {
        // At most two a second per step, and always its end.
        const last = this.lastProgressEvent.get(p.jobId) ?? 0;
        if (p.fraction < 1 && this.now() - last < 500) return;
        this.lastProgressEvent.set(p.jobId, this.now());
        this.event({
          event: 'progress',
          workflowId: p.workflowId,
          episode: this.episode(p.workflowId),
          step: p.step,
          fraction: Math.round(p.fraction * 1000) / 1000,
        });
        return;
      }
      this.redraw();
    });
    engine.on('finished', (f) => {
      this.running.delete(f.jobId);
      this.lastProgressEvent.delete(f.jobId);
      const o = f.outcome;
      if (!this.isEpisode(f.workflowId)) {
        // The digest is no episode: its own line says when it is ready; only its failure is told.
        if (o.kind === 'dead') this.line(`✗ The digest could not be made: ${o.reason}`);
      } else if (o.kind === 'committed' && o.workflowDone) {
        this.done++;
        this.report('done', f.workflowId, null);
      } else if (o.kind === 'dead') {
        this.failed++;
        this.report('failed', f.workflowId, o.reason);
      } else if (o.kind === 'committed') {
        const wf = this.o.db
          .prepare('SELECT status, waiting_what FROM workflows WHERE id = ?')
          .get(f.workflowId) as { status: string; waiting_what: string | null } | undefined;
        if (wf?.status === 'waiting') this.report('waiting', f.workflowId, wf.waiting_what);
      }
      this.redraw();
    });
  }

  private report(kind: 'done' | 'failed' | 'waiting', workflowId: string, detail: string | null): void {
    if (this.o.json) {
      this.event({
        event: `episode-${kind}`,
        workflowId,
        episode: this.episode(workflowId),
        ...(kind === 'failed' ? { reason: detail } : kind === 'waiting' ? { waitingFor: detail } : {}),
      });
      return;
    }
    const name = this.label(workflowId);
    if (kind === 'done') this.line(`✓ ${name}`);
    else if (kind === 'failed') this.line(`✗ ${name}: ${detail}`);
    else this.line(`… ${name} waits for ${detail}`);
  }

  /** "[####------] 40%  2 of 5 episodes · transcribing Title — Show 37%". */
  private progressText(focusJob?: number): string {
    const finished = this.done + this.failed;
    const total = finished + this.pending();
    const pct = total === 0 ? 100 : Math.floor((finished / total) * 100);
    const width = 20;
    const filled = Math.round((pct / 100) * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}%`;
    const head = `${bar}  ${finished} of ${count(total, 'episode')}`;
    const r =
      (focusJob !== undefined ? this.running.get(focusJob) : undefined) ??
      [...this.running.values()].sort((a, b) =>
        a.step === 'transcribe' ? -1 : b.step === 'transcribe' ? 1 : 0,
      )[0];
    if (!r) return head;
    const more = this.running.size > 1 ? ` (+${this.running.size - 1} more)` : '';
    // A bar shares one terminal line; a plain line may be as long as it needs.
    const room = this.o.tty ? Math.max(20, (this.o.columns || 80) - head.length - 30) : undefined;
    return `${head} · ${VERBS[r.step] ?? r.step} ${this.label(r.workflowId, room)} ${Math.floor(r.fraction * 100)}%${more}`;
  }

  private redraw(force = false): void {
    if (!this.o.tty || this.o.json) return;
    if (!force && this.now() - this.lastDraw < 100) return;
    this.lastDraw = this.now();
    const text = this.progressText().slice(0, (this.o.columns || 80) - 1);
    if (this.drawn && text === this.drawnText) return;
    this.o.write(`\r${text}\x1b[K`);
    this.drawn = true;
    this.drawnText = text;
  }

  summary(waiting: RunSummary['waiting'], advice: Map<string, string>): RunSummary {
    const result = { done: this.done, failed: this.failed, waiting };
    if (this.o.json) {
      this.event({ event: 'summary', ...result });
      return result;
    }
    if (this.drawn) this.o.write('\r\x1b[K');
    this.drawn = false;
    const waits = waiting.reduce((n, w) => n + w.episodes, 0);
    const parts = [
      `${count(this.done, 'episode')} done`,
      ...(waits > 0
        ? [`${waits} waiting for ${waiting.length === 1 ? waiting[0]!.what : 'something they need'}`]
        : []),
      ...(this.failed > 0 ? [`${this.failed} failed — see \`earshot failures\``] : []),
    ];
    const lines = [`${parts.join(', ')}.`];
    for (const w of waiting) {
      const a = advice.get(w.resource);
      if (a) lines.push(`Waiting for ${w.what}: ${a}; they go on by themselves then.`);
    }
    this.o.write(`${lines.join('\n')}\n`);
    return result;
  }
}
