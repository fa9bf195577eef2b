import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Db } from '../store/db.ts';
import type { GpuBinding } from './devices.ts';
import type { Logger } from '../base/log.ts';

export const LANES = ['gpu', 'cpu', 'io'] as const;
export type Lane = (typeof LANES)[number];

export function isLane(value: string): value is Lane {
  return (LANES as readonly string[]).includes(value);
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a step sees while it runs inside a worker process. */
export interface StepContext {
  workflowId: string;
  kind: string;
  subject: string;
  step: string;
  input: Json;
  /** Outputs of the steps already committed in this workflow, by step name. */
  outputs: Record<string, Json>;
  /** 1 on the first run; counts every start of this step (retries and recoveries). */
  run: number;
  /** Aborted when the step is cancelled, its lease is lost, or the engine shuts down. */
  signal: AbortSignal;
  dataDir: string;
  /**
   * The GPU this worker is bound to (gpu lane, on a machine with one): the process sees only it,
   * so a binding uses it as its device 0. Null: run on the CPU.
   */
  device: GpuBinding | null;
  /** Report progress (0..1 and anything JSON); forwarded to the UI as an event. */
  progress(fraction: number, detail?: Json): void;
  /** The library's log (base/log.ts), every line bound to this job and its workflow. */
  log: Logger;
}

/** Runs inside the engine's write transaction when a step commits, after the fence check. */
export interface CommitContext {
  db: Db;
  workflowId: string;
  kind: string;
  subject: string;
  step: string;
  input: Json;
  output: Json;
  /** The step's fingerprint, to stamp on the artifacts it projects. */
  fingerprint: string;
  fence: number;
  now: number;
}

export interface StepDef {
  name: string;
  /**
   * Where it runs; a function of the workflow's input when that decides it (understanding runs
   * on the gpu lane with a language model, on the cpu lane without). Resolved when the workflow
   * starts and stored with the step.
   */
  lane: Lane | ((input: Json) => Lane);
  /** Bump when the step's code changes what it produces: the step and those after it re-run. */
  version: string;
  /** Extra fingerprint material taken from the input, e.g. the model id. Default: none. */
  fingerprint?: (input: Json) => string;
  /**
   * Called in the engine's process when the workflow is dead-lettered at this step, to remove
   * what the step kept for a retry (a partial download). Files only, never the database; it must
   * be cheap and must not throw. Default none.
   */
  onDead?: (ctx: { dataDir: string; input: Json; subject: string }) => void;
  /** Ordinary failures (the step threw) before the workflow is dead-lettered. Default 3. */
  maxAttempts?: number;
  /** Crashes or lost leases before the workflow is dead-lettered. Default 3. */
  maxRecoveries?: number;
  /**
   * Longest a run of this step may take, in ms; past it the worker is stopped and the run counts
   * as interrupted. Catches a step stuck on a promise that never settles (it keeps
   * heartbeating, so its lease alone would never end it). Default 6 hours.
   */
  timeoutMs?: number;
  /** Steps whose outputs this one depends on, for fingerprints. Default: the previous step. */
  after?: string[];
  run(ctx: StepContext): Promise<Json>;
  /** Project the output into the store, atomically with the step's commit. Must be idempotent. */
  commit?(ctx: CommitContext): void;
  /**
   * What the step needs and does not have yet (a model nobody has chosen), or null when it can
   * run. Asked by the engine when the step is about to be queued (pure and cheap: it sees the
   * input and the committed outputs only). A step that waits is parked, not run and not failed:
   * the workflow shows `waiting`, and `Queue.wake(resource)` looks at it again once the
   * resource may have appeared.
   */
  waitFor?(input: Json, outputs: Record<string, Json>): Wait | null;
}

/** Why a step cannot run yet. */
export interface Wait {
  /** What it waits for, as a key the waker names (e.g. 'model:whisper'). */
  resource: string;
  /** The same for a person: "a Whisper model". */
  what: string;
}

/** What a step's code sees while it runs, with its workflow's input typed. */
export interface TypedStepContext<I> extends Omit<StepContext, 'input'> {
  input: I;
}

/** What a step's projection sees when it commits, with its input and output typed. */
export interface TypedCommitContext<I, O> extends Omit<CommitContext, 'input' | 'output'> {
  input: I;
  output: O;
}

/** A step as it is written: everything about it in one place, with typed input and output. */
export interface StepSpec<I, O> extends Omit<
  StepDef,
  'lane' | 'fingerprint' | 'onDead' | 'run' | 'commit' | 'waitFor'
> {
  lane: Lane | ((input: I) => Lane);
  fingerprint?: (input: I) => string;
  waitFor?: (input: I, outputs: Record<string, Json>) => Wait | null;
  onDead?: (ctx: { dataDir: string; input: I; subject: string }) => void;
  run(ctx: TypedStepContext<I>): Promise<O>;
  commit?(ctx: TypedCommitContext<I, O>): void;
}

/**
 * Define a step with typed input `I` (its workflow's input) and output `O` (what it returns and
 * its commit reads). The engine stores both as JSON; this is the one place they are cast, so a
 * step's code and its projection never cast on their own. `O` must be JSON-serializable.
 */
export function defineStep<I, O>(spec: StepSpec<I, O>): StepDef {
  const { lane, fingerprint, onDead, run, commit, waitFor, ...rest } = spec;
  return {
    ...rest,
    lane: typeof lane === 'function' ? (input: Json) => lane(input as unknown as I) : lane,
    ...(fingerprint ? { fingerprint: (input: Json) => fingerprint(input as unknown as I) } : {}),
    ...(waitFor
      ? { waitFor: (input: Json, outputs: Record<string, Json>) => waitFor(input as unknown as I, outputs) }
      : {}),
    ...(onDead ? { onDead: (ctx) => onDead({ ...ctx, input: ctx.input as unknown as I }) } : {}),
    run: async (ctx) => (await run({ ...ctx, input: ctx.input as unknown as I })) as unknown as Json,
    ...(commit
      ? {
          commit: (ctx: CommitContext) =>
            commit({ ...ctx, input: ctx.input as unknown as I, output: ctx.output as unknown as O }),
        }
      : {}),
  };
}

export interface WorkflowDef {
  kind: string;
  steps: StepDef[];
  /**
   * A waiting workflow is woken (`Queue.wake`): its input again, with whatever it names that is
   * chosen when work is queued (the active model) chosen afresh. A different input is a
   * different workflow, started in its place (its committed steps reused). Default: the same
   * input, so the waiting step is only asked again.
   */
  refreshInput?(input: Json, db: Db): Json;
}

/** The lane a step runs on for this input. */
export function stepLane(step: Pick<StepDef, 'lane'>, input: Json): Lane {
  return typeof step.lane === 'function' ? step.lane(input) : step.lane;
}

/** The step failed for now and was told when to try again (an HTTP Retry-After, say). */
export class RetryLaterError extends Error {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.name = 'RetryLaterError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** A user-facing error: the step failed for a reason retrying will not fix. */
export class PermanentStepError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'PermanentStepError';
  }
}

function sha(parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  return h.digest('hex');
}

/**
 * Each step's fingerprint covers its name, version, extra material and the fingerprints of the
 * steps it depends on, so a change re-runs that step and what depends on it, nothing else.
 */
export function stepFingerprints(def: WorkflowDef, input: Json): Map<string, string> {
  const out = new Map<string, string>();
  def.steps.forEach((step, i) => {
    const deps = step.after ?? (i > 0 ? [def.steps[i - 1]!.name] : []);
    const depPrints = deps.map((d) => {
      const fp = out.get(d);
      if (!fp)
        throw new Error(
          `Workflow "${def.kind}": step "${step.name}" depends on unknown or later step "${d}"`,
        );
      return fp;
    });
    out.set(
      step.name,
      sha([step.name, step.version, step.fingerprint?.(input) ?? '', ...depPrints]).slice(0, 16),
    );
  });
  return out;
}

export function pipelineFingerprint(stepPrints: Map<string, string>): string {
  return sha([...stepPrints.entries()].map(([k, v]) => `${k}=${v}`)).slice(0, 16);
}

/** Deterministic: the same subject under the same pipeline is always the same workflow. */
export function workflowId(kind: string, subject: string, fingerprint: string): string {
  return `${kind}-${sha([kind, subject, fingerprint]).slice(0, 20)}`;
}

export class Registry {
  private readonly defs = new Map<string, WorkflowDef>();
  constructor(defs: readonly WorkflowDef[] = []) {
    for (const d of defs) this.add(d);
  }
  add(def: WorkflowDef): void {
    if (this.defs.has(def.kind)) throw new Error(`Workflow kind "${def.kind}" is defined twice`);
    const names = new Set<string>();
    for (const s of def.steps) {
      if (names.has(s.name)) throw new Error(`Workflow "${def.kind}" has two steps named "${s.name}"`);
      names.add(s.name);
    }
    this.defs.set(def.kind, def);
  }
  get(kind: string): WorkflowDef {
    const d = this.defs.get(kind);
    if (!d) throw new Error(`No workflow of kind "${kind}" is registered in this Earshot`);
    return d;
  }
  has(kind: string): boolean {
    return this.defs.has(kind);
  }
  step(kind: string, name: string): StepDef {
    const s = this.get(kind).steps.find((x) => x.name === name);
    if (!s) throw new Error(`Workflow "${kind}" has no step "${name}"`);
    return s;
  }
  kinds(): string[] {
    return [...this.defs.keys()];
  }
}

/** A module that both the engine and its worker processes load to find the workflows. */
export async function loadRegistry(modulePath: string): Promise<Registry> {
  // A file URL, not a path: import('C:\\...') fails on Windows.
  const mod = (await import(pathToFileURL(modulePath).href)) as { workflows?: WorkflowDef[] };
  if (!Array.isArray(mod.workflows)) throw new Error(`${modulePath} does not export "workflows"`);
  return new Registry(mod.workflows);
}
