/**
 * Whether Earshot should be doing work right now, as the shell sees it: the user's own
 * Pause/Resume and whether the machine runs on battery. The engine wiring subscribes to changes
 * (pause every lane when the user pauses; hold the heavy lanes on battery); the tray shows them.
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
