import type { HostMessage, WorkerBoot, WorkerMessage } from './protocol.ts';
import type { Registry } from './workflow.ts';
import { createLog } from '../base/log.ts';

export interface WorkerPort {
  send(message: WorkerMessage): void;
  onMessage(listener: (message: HostMessage) => void): void;
}

/** The worker's loop, apart from process plumbing so Electron's utility process can reuse it. */
export function runWorker(port: WorkerPort, registry: Registry, boot: WorkerBoot): void {
  const running = new Map<number, AbortController>();
  const log = createLog(boot.dataDir, 'worker').child({ workerId: boot.workerId, lane: boot.lane });

  port.onMessage((msg) => {
    if (msg.type === 'abort') {
      running.get(msg.jobId)?.abort(new Error(msg.reason));
      return;
    }
    if (msg.type === 'shutdown') {
      for (const c of running.values()) c.abort(new Error('Earshot is shutting down'));
      log.flush();
      setImmediate(() => process.exit(0));
      return;
    }
    const controller = new AbortController();
    running.set(msg.jobId, controller);
    const jobLog = log.child({ jobId: msg.jobId, workflowId: msg.workflowId, step: msg.step });
    const beat = setInterval(() => port.send({ type: 'heartbeat', jobId: msg.jobId }), boot.heartbeatMs);
    const finish = (m: WorkerMessage) => {
      clearInterval(beat);
      running.delete(msg.jobId);
      port.send(m);
    };
    Promise.resolve()
      .then(() =>
        registry.step(msg.kind, msg.step).run({
          workflowId: msg.workflowId,
          kind: msg.kind,
          subject: msg.subject,
          step: msg.step,
          input: msg.input,
          outputs: msg.outputs,
          run: msg.run,
          signal: controller.signal,
          dataDir: boot.dataDir,
          device: boot.device ?? null,
          progress: (fraction, detail) => port.send({ type: 'progress', jobId: msg.jobId, fraction, detail }),
          log: jobLog,
        }),
      )
      .then(
        (output) => finish({ type: 'done', jobId: msg.jobId, output: output ?? null }),
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          const retryable = !('retryable' in e && e.retryable === false);
          const retryAfterMs =
            'retryAfterMs' in e && typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined;
          jobLog.warn({ err: e, retryable, aborted: controller.signal.aborted }, 'step failed');
          finish({
            type: 'failed',
            jobId: msg.jobId,
            message: e.message,
            retryable,
            aborted: controller.signal.aborted,
            retryAfterMs,
          });
        },
      );
  });
  port.send({ type: 'ready', pid: process.pid });
}
