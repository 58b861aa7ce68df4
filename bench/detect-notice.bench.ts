/**
 * Detection latency per cloud: from the moment a simulator shows a spot interruption until the
 * agent's poll loop reports it, with each source's default timing (AWS polls every 500 ms, Azure
 * every 1 s, GCP waits on a hanging GET). Also the steady-state request rate and heap growth while
 * there is no notice. Prints one JSON line per provider. Run: make bench.
 */
import { performance } from 'node:perf_hooks';
import { systemClock } from '../core/clock.ts';
import type { Provider } from '../core/domain/notice.ts';
import { createLogger } from '../core/log/create-logger.ts';
import { createRegistry } from '../core/metrics/create-registry.ts';
import { createSourceMetrics } from '../agent/metrics/source-metrics.ts';
import { watchNotices } from '../agent/notices/watch-notices.ts';
import { createNoticeSource } from '../agent/sources/create-source.ts';
import { startSimulator } from '../test/simulators/start-simulator.ts';

const log = createLogger({ level: 'silent', format: 'json' });
const trials = 5;
const steadyMs = 5000;

async function measure(provider: Provider): Promise<void> {
  const sim = await startSimulator({ provider });
  const source = createNoticeSource({ provider, metadataEndpoint: sim.url, clock: systemClock, log });
  const stop = new AbortController();
  let onNotice: (() => void) | null = null;
  const loop = watchNotices({
    source,
    clock: systemClock,
    log,
    metrics: createSourceMetrics(createRegistry({ processMetrics: false })),
    signal: stop.signal,
    onChanges: (c) => {
      if (c.appeared.length > 0) onNotice?.();
    },
  });
  // Steady state first: no notice, count requests and heap.
  await new Promise((r) => setTimeout(r, 1000));
  sim.state.requests = [];
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  await new Promise((r) => setTimeout(r, steadyMs));
  const steadyRequestsPerSecond = sim.state.requests.length / (steadyMs / 1000);
  const heapGrowthKb = Math.round((process.memoryUsage().heapUsed - heapBefore) / 1024);

  const latencies: number[] = [];
  for (let i = 0; i < trials; i++) {
    const seen = new Promise<void>((resolve) => (onNotice = resolve));
    // Spread arrival times over the poll cycle.
    await new Promise((r) => setTimeout(r, 137 * (i + 1)));
    const started = performance.now();
    await fetch(`${sim.url}/_spotguard/notices`, { method: 'POST', body: JSON.stringify({ kind: 'spot-interruption' }) }).then((r) => r.arrayBuffer());
    await seen;
    latencies.push(performance.now() - started);
    await fetch(`${sim.url}/_spotguard/notices`, { method: 'DELETE' }).then((r) => r.arrayBuffer());
    await new Promise((r) => setTimeout(r, provider === 'azure' ? 2200 : 1200));
  }
  stop.abort();
  await loop;
  await source.close();
  await sim.close();
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      bench: 'detect-notice',
      provider,
      trials,
      detectMedianMs: Math.round(latencies[Math.floor(trials / 2)] ?? 0),
      detectMaxMs: Math.round(latencies.at(-1) ?? 0),
      steadyRequestsPerSecond,
      steadyHeapGrowthKb: heapGrowthKb,
    }),
  );
}

for (const provider of ['aws', 'gcp', 'azure'] as const) await measure(provider);
