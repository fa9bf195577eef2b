import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { describeProcessing, type ProcessingState } from './processing.ts';

export interface TrayActions {
  show(): void;
  setPaused(paused: boolean): void;
  quit(): void;
}

export interface TrayDeps {
  Tray: new (image: NativeImage | string) => Tray;
  Menu: { buildFromTemplate(template: MenuItemConstructorOptions[]): Menu };
  platform: NodeJS.Platform;
}

export interface EarshotTray {
  /** Redraw the menu and tooltip for a new processing state. */
  update(state: ProcessingState): void;
  destroy(): void;
}

export function trayMenuTemplate(state: ProcessingState, actions: TrayActions): MenuItemConstructorOptions[] {
  return [
    // What Earshot is doing, once the service has said ("Earshot: working on 3 episodes").
    ...(state.working !== undefined
      ? [{ id: 'status', label: describeProcessing(state), enabled: false }, { type: 'separator' as const }]
      : []),
    { id: 'show', label: 'Show Earshot', click: () => actions.show() },
    {
      id: 'pause',
      label: state.userPaused ? 'Resume processing' : 'Pause processing',
      click: () => actions.setPaused(!state.userPaused),
    },
    { type: 'separator' },
    { id: 'quit', label: 'Quit Earshot', click: () => actions.quit() },
  ];
}

export function createTray(
  deps: TrayDeps,
  image: NativeImage | string,
  actions: TrayActions,
  initial: ProcessingState,
): EarshotTray {
  const tray = new deps.Tray(image);
  const update = (state: ProcessingState) => {
    tray.setContextMenu(deps.Menu.buildFromTemplate(trayMenuTemplate(state, actions)));
    tray.setToolTip(describeProcessing(state));
  };
  // macOS opens the menu on click; elsewhere a click on the icon should bring the window back.
  if (deps.platform !== 'darwin') tray.on('click', () => actions.show());
  update(initial);
  return { update, destroy: () => tray.destroy() };
}
