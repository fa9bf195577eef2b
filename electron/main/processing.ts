import type { LaneName, LaneView } from '../../pipeline/api/contract.ts';

const LANE_NAMES: readonly LaneName[] = ['gpu', 'cpu', 'io'];

/**
 * Whether Earshot should be doing work right now, as the shell sees it: the user's own
 * Pause/Resume (stored by the library service) and whether the machine runs on battery (a live
 * hold on the gpu lane, never stored). The tray shows them.
 */
export interface ProcessingState {
  /** The user chose "Pause processing". */
  userPaused: boolean;
  /** The machine runs on battery power. */
  onBattery: boolean;
  /** Episodes being worked on now (running workflows); absent until the service is read. */
  working?: number;
  /** Why heavy work waits besides the user's pause ("on battery", the night rule, the budget). */
  held?: string[];
  /** Episodes that failed and wait for the user (the failures to look at). */
  problems?: number;
}

/** What the service says of the work, for the tray (`status`). */
export interface Activity {
  working: number;
  held: string[];
  problems: number;
}

export interface ProcessingSwitch {
  readonly state: ProcessingState;
  setUserPaused(paused: boolean): void;
  setOnBattery(onBattery: boolean): void;
  /** The work as the service reports it. */
  setActivity(activity: Activity): void;
  /** Called after every change (not for a set that changes nothing). Returns an unsubscribe. */
  onChange(listener: (state: ProcessingState) => void): () => void;
}

export function createProcessingSwitch(initial: Partial<ProcessingState> = {}): ProcessingSwitch {
  let state: ProcessingState = { userPaused: false, onBattery: false, ...initial };
  const listeners = new Set<(state: ProcessingState) => void>();
  const update = (patch: Partial<ProcessingState>) => {
    const next = { ...state, ...patch };
    if (
      next.userPaused === state.userPaused &&
      next.onBattery === state.onBattery &&
      next.working === state.working &&
      next.problems === state.problems &&
      (next.held ?? []).join('\n') === (state.held ?? []).join('\n')
    )
      return;
    state = next;
    for (const listener of listeners) listener(state);
  };
  return {
    get state() {
      return state;
    },
    setUserPaused: (userPaused) => update({ userPaused }),
    setOnBattery: (onBattery) => update({ onBattery }),
    setActivity: ({ working, held, problems }) => update({ working, held: [...held], problems }),
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/**
 * One line for the tray's tooltip (and the menu's first line): "Earshot: working on 3 episodes",
 * "Earshot: paused: on battery", "Earshot: 2 problems", or several of them.
 */
export function describeProcessing(state: ProcessingState): string {
  const parts: string[] = [];
  if (state.userPaused) parts.push('processing paused');
  else {
    const held = state.held ?? [];
    if ((state.working ?? 0) > 0) parts.push(`working on ${plural(state.working!, 'episode', 'episodes')}`);
    if (held.length > 0) parts.push(`paused: ${held.join(', ')}`);
    else if (state.onBattery && state.held === undefined)
      parts.push('on battery, heavy work waits for power');
  }
  if ((state.problems ?? 0) > 0) parts.push(plural(state.problems!, 'problem', 'problems'));
  return parts.length > 0 ? `Earshot: ${parts.join(' · ')}` : 'Earshot';
}

/** What the tray needs of `status`. */
export interface StatusLike {
  lanes: { lane: string; holds: string[] }[];
  workflows: Record<string, number>;
  deadLetters: unknown[];
}

/** The tray's activity from the service's status: running workflows, gpu holds, failures. */
export function activityOf(status: StatusLike): Activity {
  const held = [...new Set(status.lanes.flatMap((l) => l.holds))];
  return { working: status.workflows.running ?? 0, held, problems: status.deadLetters.length };
}

/** What the tray needs of the API (main's own client of the library service). */
export interface LanesClient {
  invoke(method: 'status'): Promise<{ lanes: LaneView[] }>;
  invoke(method: 'pauseLane' | 'resumeLane', lane: LaneName): Promise<LaneView>;
  on(event: 'onLaneChanged', listener: (lane: LaneView) => void): () => void;
}

export interface LaneFollower {
  /** Read the lanes again (the service has just started or restarted). */
  refresh(): Promise<void>;
  /** The tray's Pause/Resume: the user's own pause of every lane, stored by the service. */
  setUserPaused(paused: boolean): Promise<void>;
  stop(): void;
}

/**
 * The tray's "paused" is the user's stored pause as the library service keeps it (every lane
 * paused by the user), read at start and followed through `onLaneChanged`; never the power
 * source's hold, which `onBattery` shows apart. Pausing from the tray pauses every lane in the
 * service, so it survives a restart like `earshot pause`.
 */
export function followLanes(
  client: LanesClient,
  processing: Pick<ProcessingSwitch, 'setUserPaused'>,
  onError: (err: Error) => void = (err) => console.error(`Earshot: ${err.message}`),
): LaneFollower {
  const paused = new Map<LaneName, boolean>();
  const apply = () => {
    if (paused.size === LANE_NAMES.length)
      processing.setUserPaused(LANE_NAMES.every((l) => paused.get(l) === true));
  };
  const off = client.on('onLaneChanged', (lane) => {
    paused.set(lane.lane, lane.paused);
    apply();
  });
  return {
    async refresh() {
      try {
        for (const lane of (await client.invoke('status')).lanes) paused.set(lane.lane, lane.paused);
        apply();
      } catch (err) {
        onError(err as Error);
      }
    },
    async setUserPaused(pause) {
      try {
        for (const lane of LANE_NAMES) {
          const view = await client.invoke(pause ? 'pauseLane' : 'resumeLane', lane);
          paused.set(view.lane, view.paused);
        }
        apply();
      } catch (err) {
        onError(err as Error);
      }
    },
    stop: off,
  };
}
