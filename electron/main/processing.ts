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
}

export interface ProcessingSwitch {
  readonly state: ProcessingState;
  setUserPaused(paused: boolean): void;
  setOnBattery(onBattery: boolean): void;
  /** Called after every change (not for a set that changes nothing). Returns an unsubscribe. */
  onChange(listener: (state: ProcessingState) => void): () => void;
}

export function createProcessingSwitch(initial: Partial<ProcessingState> = {}): ProcessingSwitch {
  let state: ProcessingState = { userPaused: false, onBattery: false, ...initial };
  const listeners = new Set<(state: ProcessingState) => void>();
  const update = (patch: Partial<ProcessingState>) => {
    const next = { ...state, ...patch };
    if (next.userPaused === state.userPaused && next.onBattery === state.onBattery) return;
    state = next;
    for (const listener of listeners) listener(state);
  };
  return {
    get state() {
      return state;
    },
    setUserPaused: (userPaused) => update({ userPaused }),
    setOnBattery: (onBattery) => update({ onBattery }),
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

/** One line for the tray's tooltip. */
export function describeProcessing(state: ProcessingState): string {
  if (state.userPaused) return 'Earshot: processing paused';
  if (state.onBattery) return 'Earshot: on battery, heavy work waits for power';
  return 'Earshot';
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
