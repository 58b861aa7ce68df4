// The agent against real Spark: a real control plane, a Spark standalone
// cluster of three workers (each a spot Node through the bridge in
// test/harness/bridge), the real `spotguard agent` process on the node of one
// worker, and an AWS metadata simulator announcing a spot interruption.
//
// A decommission-enabled shuffle job runs its map stage and pauses between
// its two actions; the notice then comes for the node of the worker whose
// executor wrote the most shuffle output. At the deadline the machine dies
// (everything still running on that worker is SIGKILLed) in every scenario.
//
// - evict mode: the agent evicts the executor pod with the time left as
//   grace; the bridge's kubelet stand-in runs the preStop decommission
//   (SIGPWR) and finishes the deletion when the JVM has exited.
// - signal mode: the agent sends SIGPWR to the executor JVM itself and
//   deletes the pod once it has exited.
// - baseline, no spotguard: nothing happens until the machine dies.
//
// With spotguard the job's next action reuses the migrated shuffle output: the
// map stage keeps attempts [0] and no map task runs again. Without it the
// lost map tasks run again. Each scenario prints its figures as a JSON line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBridgedWorld } from '../harness/bridge/bridged-world.ts';
import type { BridgedWorld } from '../harness/bridge/bridged-world.ts';
import type { ExecutorPodRecord, MachineDeath } from '../harness/bridge/bridge-records.ts';
import type { SparkBridge } from '../harness/bridge/spark-bridge.ts';
import { firstMapStage, shuffleFigures } from '../harness/spark/shuffle-figures.ts';
import type { ShuffleFigures } from '../harness/spark/shuffle-figures.ts';
import { tailFile } from '../harness/k8s/log-tails.ts';
import { waitFor } from '../harness/k8s/wait-for.ts';
import { withLogTails } from '../harness/k8s/with-log-tails.ts';
import { findExecutorJvm, waitForExecutorExit } from '../harness/spark/executor-jvms.ts';
import { ensureSparkInstall } from '../harness/spark/spark-install.ts';
import type { SparkInstall } from '../harness/spark/spark-install.ts';
import type { ExecutorSummary } from '../harness/spark/spark-rest.ts';
import { submitShuffleJob } from '../harness/spark/submit-shuffle-job.ts';
import type { ResultMarker } from '../harness/spark/submit-shuffle-job.ts';
import { createAgentIdentity } from '../integration/agent/support/agent-identity.ts';
import { noticeOf, waitForEvent, waitForNode } from '../integration/agent/support/cluster-view.ts';
import type { NoticeAnnotation } from '../integration/agent/support/cluster-view.ts';
import { startSimulatorInProcess } from '../integration/agent/support/simulator-control.ts';
import type { SimulatorControl } from '../integration/agent/support/simulator-control.ts';
import { newLogFile, startAgent, waitForReady } from '../integration/agent/support/start-agent.ts';
import type { RunningAgent } from '../integration/agent/support/start-agent.ts';

type Mode = 'evict' | 'signal' | 'none';

/** From the notice to the interruption. */
const noticeSeconds = 30;
const marginSeconds = 2;

interface Scenario {
  dir: string;
  world?: BridgedWorld;
  simulator?: SimulatorControl;
  agent?: RunningAgent;
  agentLog?: string;
  stopJob?: () => Promise<void>;
  /** Cancels the machine's death when the test ends first. */
  deathTimer: AbortController;
}

/** What a scenario left behind, for its assertions. */
interface Run {
  /** The interrupted node. */
  node: string;
  victimId: string;
  victimMapTasks: number;
  /** The victim as the driver saw it at the end (removeReason). */
  victim: ExecutorSummary;
  /** The bridge's record of the victim's pod (what the kubelet stand-in did). */
  pod: ExecutorPodRecord;
  jvmExitedAt: number;
  deadlineMs: number;
  shuffle: ShuffleFigures;
  result: ResultMarker;
  driverExit: string;
  death: MachineDeath;
  /** The agent's spotguard.io/notice annotation once it reported InterruptionHandled. */
  record: NoticeAnnotation | null;
  bridge: SparkBridge;
  agent: RunningAgent | undefined;
}

let install: SparkInstall | undefined;
let current: Scenario | undefined;

describe('the agent decommissions real Spark executors before a spot interruption', { timeout: 900_000 }, () => {
  before(() => {
    install = ensureSparkInstall();
  });

  afterEach(async () => {
    const s = current;
    current = undefined;
    if (!s) return;
    s.deathTimer.abort();
    await s.agent?.kill('SIGKILL');
    await s.simulator?.close();
    await s.stopJob?.().catch(() => undefined);
    await s.world?.stop();
    if (process.env.SPOTGUARD_KEEP_TEST_DIRS !== '1') rmSync(s.dir, { recursive: true, force: true });
  });

  const logTails = (): { logTails(lines?: number): string } | undefined => {
    const s = current;
    if (!s?.world) return undefined;
    return {
      logTails: (lines = 40) => [s.world!.logTails(lines), s.agentLog ? `----- agent (last ${lines} lines) -----\n${tailFile(s.agentLog, lines)}` : ''].join('\n'),
    };
  };

  it('evict mode: the eviction grace lets the preStop hook decommission; the shuffle is reused', withLogTails(logTails, async (t) => {
    const run = await interruptedRun(t, 'evict');
    assertDecommissioned(run);
    // The kubelet stand-in ran the preStop decommission with the grace the agent gave: the time left, less the margin.
    const { pod } = run;
    assert.equal(pod.signal, 'SIGPWR');
    assert.equal(pod.killed, false, 'the executor exited within its grace period');
    assert.equal(pod.removedBy, 'kubelet-stand-in');
    const evicted = run.agent!.logged('pod evicted').find((l) => l.pod === pod.pod);
    assert.ok(evicted, `the agent logged the eviction of ${pod.pod}`);
    assert.equal(pod.graceSeconds, evicted.graceSeconds, 'the pod got the grace the agent asked for');
    const wanted = Math.floor((run.deadlineMs - marginSeconds * 1000 - Date.parse(evicted.time)) / 1000);
    assert.ok(Math.abs(pod.graceSeconds! - wanted) <= 1, `grace ${pod.graceSeconds}s: deadline − margin − eviction time ≈ ${wanted}s`);
  }));

  it('signal mode: the agent sends SIGPWR itself and removes the pod after the JVM exits; the shuffle is reused', withLogTails(logTails, async (t) => {
    const run = await interruptedRun(t, 'signal');
    assertDecommissioned(run);
    // The signal came from the agent, not from a pod deletion; the agent removed the pod once the JVM had gone.
    const { pod, agent } = run;
    assert.equal(pod.signal, null, 'the kubelet stand-in sent no signal');
    assert.equal(agent!.logged('executor JVM signalled (SIGPWR)').filter((l) => l.pod === pod.pod).length, 1, 'one SIGPWR');
    assert.ok(agent!.logged('pod deleted').some((l) => l.pod === pod.pod && l.graceSeconds === 0), `the agent deleted ${pod.pod}`);
    assert.equal(pod.removedBy, 'other');
    assert.ok(pod.podGoneAt !== null && pod.podGoneAt >= run.jvmExitedAt, 'the pod was removed after the JVM had exited');
  }));

  it('without spotguard: the executor dies with its machine and its map tasks run again', withLogTails(logTails, async (t) => {
    const run = await interruptedRun(t, 'none');
    assert.equal(run.result.correct, true, `the job's answer ${JSON.stringify(run.result)}`);
    assert.equal(run.driverExit, 'exited with code 0');
    assert.doesNotMatch(run.victim.removeReason ?? '', /^Executor decommission/);
    assert.ok(run.death.killed.some((k) => k.what.startsWith(`executor ${run.victimId} of `)),
      `the machine's death killed executor ${run.victimId}: ${JSON.stringify(run.death.killed)}`);
    assert.ok(run.shuffle.mapTasksRerun > 0 || run.shuffle.mapStageAttempts.some((a) => a >= 1), JSON.stringify(run.shuffle));
    assert.equal(run.shuffle.mapTasksRerun, run.victimMapTasks, 'exactly the lost map tasks ran again');
  }));
});

/** What every scenario with spotguard must show. */
function assertDecommissioned(run: Run): void {
  assert.equal(run.result.correct, true, `the job's answer ${JSON.stringify(run.result)}`);
  assert.equal(run.driverExit, 'exited with code 0');
  // The shuffle written before the notice was reused: no map stage attempt, no map task again.
  assert.deepEqual(run.shuffle.mapStageAttempts, [0]);
  assert.equal(run.shuffle.mapTasksRerun, 0, JSON.stringify(run.shuffle.mapStageRuns));
  assert.ok(run.shuffle.mapStageRuns.slice(1).every((r) => r.status === 'SKIPPED'), JSON.stringify(run.shuffle.mapStageRuns));
  assert.match(run.victim.removeReason ?? '', /^Executor decommission/);
  assert.ok(run.jvmExitedAt < run.deadlineMs, 'the executor was gone before the deadline');
  // The agent recorded the outcome on the node.
  const executor = run.record?.progress.executors.find((e) => e.uid === run.pod.uid);
  assert.equal(executor?.outcome, 'decommissioned', JSON.stringify(run.record?.progress.executors));
  // Nothing of the app was left for the deadline to kill; the tainted worker took no replacement executor.
  assert.deepEqual(run.death.killed.filter((k) => k.what.startsWith('executor ')), []);
  const { bridge } = run;
  assert.deepEqual(bridge.log.pods.filter((p) => p.node === run.node).map((p) => p.pod), [run.pod.pod], 'no new executor pod on the tainted node');
  const stop = bridge.log.workerStops.find((w) => w.node === run.node);
  assert.ok(stop && stop.at >= run.jvmExitedAt, 'the tainted worker was stopped once its executor had gone');
}

async function interruptedRun(t: TestContext, mode: Mode): Promise<Run> {
  const started = Date.now();
  const s: Scenario = { dir: mkdtempSync(join(tmpdir(), `spotguard-agent-spark-${mode}-`)), deathTimer: new AbortController() };
  current = s;
  const world = await startBridgedWorld({ dir: s.dir, workers: 3, install: install! });
  s.world = world;
  const { bridge, cluster, k } = world;

  const job = await submitShuffleJob({ cluster, name: `agent-${mode}`, decommission: true });
  s.stopJob = () => job.stop();
  await bridge.waitForExecutorPods(job.appId, cluster.workers.length);
  await job.waitForMarker('map-done.json');

  // The victim: the executor that wrote the most map output, and the node of its worker.
  const mapStage = firstMapStage(await job.rest.stages(job.appId));
  const summary = (await job.rest.stageAttempt(job.appId, mapStage.stageId, mapStage.attemptId)).executorSummary ?? {};
  const [victimId, victimStats] = Object.entries(summary).sort((a, b) => b[1].shuffleWrite - a[1].shuffleWrite)[0] ?? [];
  assert.ok(victimId && victimStats && victimStats.shuffleWrite > 0, `an executor wrote shuffle output: ${JSON.stringify(summary)}`);
  const jvm = findExecutorJvm(job.appId, victimId);
  assert.ok(jvm, `executor ${victimId} runs`);
  const node = bridge.nodeNameOf(jvm.host);
  const pod = bridge.executorPod(job.appId, victimId);
  assert.ok(pod && pod.node === node, `executor ${victimId} is mirrored on ${node}`);

  s.simulator = await startSimulatorInProcess('aws');
  if (mode !== 'none') {
    const identity = await createAgentIdentity(world.cp, k, s.dir);
    s.agentLog = newLogFile(join(s.dir, 'agent.log'));
    s.agent = await startAgent({
      nodeName: node, kubeconfig: identity.kubeconfigPath, metadataEndpoint: s.simulator.url, provider: 'aws', logPath: s.agentLog,
      args: ['--mode', mode, '--deadline-margin', `${marginSeconds}s`],
    });
    await waitForReady(s.agent);
  }

  const noticeAt = Date.now();
  const scheduled = await s.simulator.notice({ kind: 'spot-interruption', in: `${noticeSeconds}s` });
  const deadlineMs = Date.parse(scheduled.at);
  const death = (async () => {
    await sleep(Math.max(0, deadlineMs - Date.now()), undefined, { signal: s.deathTimer.signal });
    return bridge.machineDies(node);
  })();
  death.catch(() => undefined); // awaited below; a test that fails first cancels it

  // Without spotguard nothing happens before the machine dies.
  if (mode === 'none') await death;

  await waitForExecutorExit(jvm, Math.max(0, deadlineMs - Date.now()) + 10_000);
  const victim = await waitFor(`the driver to record executor ${victimId} as removed`, async () => {
    const e = (await job.rest.allExecutors(job.appId)).find((x) => x.id === victimId);
    return e && !e.isActive ? e : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });

  let record: NoticeAnnotation | null = null;
  if (mode !== 'none') {
    const handled = await waitForEvent(k, node, 'InterruptionHandled', { timeoutMs: noticeSeconds * 1000 });
    assert.equal(handled.type, 'Normal', `summary: ${handled.note}`);
    record = await waitForNode(k, node, 'the agent to record the outcome', (n) => noticeOf(n) ?? undefined);
  }

  // The job goes on: action 2 reads the shuffle written before the notice.
  job.release('continue');
  const result = await job.waitForMarker<ResultMarker>('result.json');
  const stages = await job.rest.stages(job.appId);
  job.release('finish');
  const driverExit = await job.waitForExit(60_000);
  const machineDeath = await death;

  const shuffle = shuffleFigures(mapStage, stages);
  const jvmExitedAt = pod.jvmExitedAt ?? Date.now();
  t.diagnostic(`agent-spark figures ${JSON.stringify({
    mode: mode === 'none' ? 'no spotguard' : mode,
    sparkVersion: cluster.install.version,
    victim: { executorId: victimId, node, mapTasks: victimStats.succeededTasks, shuffleWriteBytes: victimStats.shuffleWrite },
    noticeSeconds,
    noticeToExitSeconds: round((jvmExitedAt - noticeAt) / 1000),
    signal: mode === 'evict' ? `${pod.signal} by the kubelet stand-in, grace ${pod.graceSeconds}s` : mode === 'signal' ? 'SIGPWR by the agent' : 'SIGKILL at the deadline',
    mapStageAttempts: shuffle.mapStageAttempts,
    mapTasksRerun: shuffle.mapTasksRerun,
    mapStageRuns: shuffle.mapStageRuns.map((r) => `${r.stageId}.${r.attemptId} ${r.status} ${r.numCompleteTasks}/${r.numTasks}`),
    fetchFailures: shuffle.fetchFailures,
    removeReason: victim.removeReason ?? '',
    outcome: record?.progress.executors.find((e) => e.uid === pod.uid)?.outcome ?? null,
    killedAtDeadline: machineDeath.killed.map((x) => x.what),
    replacementsNotAdmitted: bridge.log.refused.length,
    secondActionSeconds: result.seconds,
    correct: result.correct,
    scenarioSeconds: round((Date.now() - started) / 1000),
  })}`);
  return {
    node, victimId, victimMapTasks: victimStats.succeededTasks, victim, pod, jvmExitedAt, deadlineMs,
    shuffle, result, driverExit, death: machineDeath, record, bridge, agent: s.agent,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
