import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Counter } from 'prom-client';
import { createLogger } from '../../../core/log/create-logger.ts';
import { createRegistry } from '../../../core/metrics/create-registry.ts';
import { startOpsServer } from '../../../core/ops/start-ops-server.ts';

function captureLog(): { log: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ level: 'info', format: 'json', destination });
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('ops server: /healthz, /readyz follows readiness, /metrics serves our own registry only', async (t) => {
  const registry = createRegistry();
  new Counter({ name: 'spotguard_test_things_total', help: 'things', registers: [registry] }).inc(3);
  let notReady: string | null = 'no successful metadata poll yet';
  const { log, lines } = captureLog();
  const ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry, log, readiness: () => notReady });
  t.after(() => ops.close());

  const health = await fetch(`${ops.url}/healthz`);
  assert.equal(health.status, 200);

  const before = await fetch(`${ops.url}/readyz`);
  assert.equal(before.status, 503);
  assert.match(await before.text(), /not ready: no successful metadata poll yet/);
  notReady = null;
  assert.equal((await fetch(`${ops.url}/readyz`)).status, 200);

  const metrics = await fetch(`${ops.url}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await metrics.text();
  assert.match(text, /^spotguard_test_things_total 3$/m);
  assert.match(text, /^spotguard_process_cpu_seconds_total /m);
  assert.doesNotMatch(text, /^process_cpu_seconds_total /m, 'no metrics from the global registry');

  assert.equal((await fetch(`${ops.url}/nope`)).status, 404);
  assert.equal((await fetch(`${ops.url}/healthz`, { method: 'POST' })).status, 405);
  const listening = lines().find((l) => l.msg === 'ops server listening');
  assert.equal(listening?.url, ops.url);
  assert.equal(listening?.level, 'info');
});
