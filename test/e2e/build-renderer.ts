/** Global set-up of the e2e project: build the renderer `earshot serve` hands out, once for every spec. */
import { buildRenderer, haveChromium } from '../helpers/ui.ts';

export default function setup(): void {
  if (haveChromium) buildRenderer();
}
