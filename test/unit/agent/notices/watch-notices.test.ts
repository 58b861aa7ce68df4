import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Clock } from '../../../../core/clock.ts';
import type { Notice } from '../../../../core/domain/notice.ts';
import { SpotguardError } from '../../../../core/errors.ts';
import { createLogger } from '../../../../core/log/create-logger.ts';
import { createRegistry } from '../../../../core/metrics/create-registry.ts';
import { createSourceMetrics } from '../../../../agent/metrics/source-metrics.ts';
import type { NoticeChanges } from '../../../../agent/notices/diff-notices.ts';
import { watchNotices } from '../../../../agent/notices/watch-notices.ts';
import type { NoticeSource } from '../../../../agent/sources/notice-source.ts';

/** A clock whose sleeps return at once and are recorded, so the loop's waits can be asserted. */
function recordingClock(): Clock & { sleeps: number[] } {
  let now = 1_700_000_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      await new Promise((r) => setImmediate(r));
    },
  };
}

const notice = (id: string): Notice => ({
  id,
  provider: 'aws',
  kind: 'spot-interruption',
  action: 'terminate',
  deadline: 1_700_000_120_000,
  detectedAt: 1_700_000_000_000,
  raw: {},
});

type Step = Notice[] | SpotguardError | Error;

function scriptedSource(steps: Step[], stop: AbortController): NoticeSource & { waits: boolean[] } {
  const waits: boolean[] = [];
  let i = 0;
  return {
    provider: 'aws',
    pollIntervalMs: 500,
    waits,
    poll: async (_signal, options) => {
      waits.push(options?.wait ?? false);
      const step = steps[i++];
      if (i >= steps.length) stop.abort();
      if (step === undefined) return [];
      if (step instanceof Error) throw step;
      return step;
    },
    identity: async () => ({ provider: 'aws', id: 'i-1', type: 'm5.large', zone: 'z', capacity: 'spot' }),
    close: async () => undefined,
  };
}

function sink(): { destination: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(c, _e, done) {
      chunks.push(String(c));
      done();
    },
  });
  return { destination, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('faults never end the loop: each is logged with its code, counted, and retried with growing jittered backoff', async () => {
  const stop = new AbortController();
  const steps: Step[] = [
    new SpotguardError('E_METADATA_UNAVAILABLE', 'connection reset'),
    new SpotguardError('E_METADATA_HTTP', 'HTTP 503'),
    new SpotguardError('E_METADATA_MALFORMED', 'bad JSON'),
    new Error('something unexpected'),
    [notice('n1')],
    [notice('n1')],
    [],
  ];
  const source = scriptedSource(steps, stop);
  const clock = recordingClock();
  const registry = createRegistry({ processMetrics: false });
  const { destination, lines } = sink();
  const seen: NoticeChanges[] = [];
  await watchNotices({
    source,
    clock,
    log: createLogger({ level: 'info', format: 'json', destination }),
    metrics: createSourceMetrics(registry),
    signal: stop.signal,
    onChanges: (c) => {
      seen.push(c);
    },
    random: () => 1,
  });
  const text = await registry.metrics();
  assert.match(text, /spotguard_metadata_errors_total\{provider="aws",code="E_METADATA_UNAVAILABLE"\} 1/);
  assert.match(text, /spotguard_metadata_errors_total\{provider="aws",code="E_METADATA_HTTP"\} 1/);
  assert.match(text, /spotguard_metadata_errors_total\{provider="aws",code="E_METADATA_MALFORMED"\} 1/);
  assert.match(text, /spotguard_metadata_errors_total\{provider="aws",code="E_INTERNAL"\} 1/);
  assert.match(text, /spotguard_metadata_polls_total\{provider="aws",outcome="ok"\} 3/);
  assert.deepEqual(clock.sleeps.slice(0, 4), [500, 1000, 2000, 4000], 'backoff grows (jitter at its ceiling here)');
  const failures = lines().filter((l) => l.msg === 'metadata poll failed');
  assert.deepEqual(failures.map((l) => l.code), ['E_METADATA_UNAVAILABLE', 'E_METADATA_HTTP', 'E_METADATA_MALFORMED', 'E_INTERNAL']);
  assert.ok(lines().some((l) => l.msg === 'metadata polls recovered'));
  assert.deepEqual(seen.map((c) => [c.appeared.map((n) => n.id), c.disappeared.map((n) => n.id)]), [[['n1'], []], [[], []], [[], ['n1']]]);
  assert.deepEqual(lines().filter((l) => l.msg === 'notice detected').map((l) => l.noticeId), ['n1'], 'a repeated notice is reported once');
});

test('the first poll reads at once; later polls may wait for a change', async () => {
  const stop = new AbortController();
  const source = scriptedSource([[], [], []], stop);
  await watchNotices({
    source,
    clock: recordingClock(),
    log: createLogger({ level: 'silent', format: 'json', destination: sink().destination }),
    metrics: createSourceMetrics(createRegistry({ processMetrics: false })),
    signal: stop.signal,
    onChanges: () => undefined,
  });
  assert.deepEqual(source.waits, [false, true, true]);
});

test('a throttled metadata service is given at least a second', async () => {
  const stop = new AbortController();
  const clock = recordingClock();
  const source = scriptedSource([new SpotguardError('E_METADATA_THROTTLED', 'HTTP 429'), []], stop);
  await watchNotices({
    source,
    clock,
    log: createLogger({ level: 'silent', format: 'json', destination: sink().destination }),
    metrics: createSourceMetrics(createRegistry({ processMetrics: false })),
    signal: stop.signal,
    onChanges: () => undefined,
    random: () => 0,
  });
  assert.ok((clock.sleeps[0] ?? 0) >= 1000, `waited ${clock.sleeps[0]} ms`);
});
