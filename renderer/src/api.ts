import { selectTransport, type Transport } from './transport.ts';
import { inAppWords } from './words.ts';

/**
 * This page's way to the typed API, chosen once at start-up. It speaks the app's words: the
 * API's messages name CLI commands, and what the UI shows names its buttons and screens.
 */
export const transport: Transport = inAppWords(selectTransport(window));
