import type { DigestReadyEvent } from '../../pipeline/api/contract.ts';

/** What the notification needs of Electron's `Notification` (a fake in tests). */
export interface NotificationLike {
  on(event: 'click', listener: () => void): unknown;
  show(): void;
}
export interface NotificationApi {
  isSupported(): boolean;
  new (options: { title: string; body: string; silent?: boolean }): NotificationLike;
}

/**
 * A system notification when the schedule has made a digest ("Your weekly digest is ready: 5
 * stories from 12 episodes this week"); clicking it calls `open` with the digest's id (the app
 * shows its window on the Digest screen). Returns whether one was shown.
 */
export function notifyDigestReady(
  Notification: NotificationApi,
  event: DigestReadyEvent,
  open: (digestId: number) => void,
): boolean {
  if (!Notification.isSupported()) return false;
  const n = new Notification({ title: 'Your digest is ready', body: `${event.headline}.` });
  n.on('click', () => open(event.digestId));
  n.show();
  return true;
}
