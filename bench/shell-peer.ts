/**
 * The processes around the main process in `npm run bench:shell`, each its own Node process so
 * its work never lands on the event loop being measured:
 * - `feed`: an HTTP server on 127.0.0.1 serving one feed of BENCH_ITEMS items; prints its URL.
 * - `window`: a renderer's side of the API: takes the port main brokers (a fake MessagePort, as
 *   in the tests) and runs the scenario it is sent through the library service, reporting each
 *   call's time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateFeed } from './feed-gen.ts';
import { FakePort, isFakePortSpec } from '../test/helpers/fake-electron.ts';
import { rpcPortOf } from '../electron/service/ports.ts';
import { rpcClient } from '../pipeline/api/rpc.ts';
import { scenario, type ScenarioSpec } from './shell-scenario.ts';

const role = process.argv[2];

if (role === 'feed') {
  const body = generateFeed(Number(process.env.BENCH_ITEMS ?? 5000), 'The long back catalogue');
  const server = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(body),
  );
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send!({ url: `http://127.0.0.1:${port}/feed.xml`, bytes: body.length });
  });
  process.on('disconnect', () => process.exit(0));
} else if (role === 'window') {
  const client = rpcClient();
  process.on('message', (m: { port?: unknown; run?: ScenarioSpec }) => {
    if (isFakePortSpec(m.port)) client.attach(rpcPortOf(new FakePort(m.port)));
    if (m.run) {
      scenario((method, args) => client.call(method, args), m.run).then(
        (timings) => process.send!({ timings }),
        (err: unknown) => process.send!({ error: (err as Error).message }),
      );
    }
  });
  process.on('disconnect', () => process.exit(0));
} else {
  console.error('shell-peer: feed | window');
  process.exit(2);
}
