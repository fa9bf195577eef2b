import { selectTransport, type Transport } from './transport.ts';

/** This page's way to the typed API, chosen once at start-up. */
export const transport: Transport = selectTransport(window);
