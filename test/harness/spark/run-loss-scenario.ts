// One measurement of what losing an executor costs a shuffle: run the shuffle
// job, signal the executor holding the most map output once (SIGPWR: graceful
// decommission; SIGKILL: a reclaimed machine), let the job finish, and read
// from the driver's REST API what Spark had to redo.
//
// Two moments: `between-actions` (after action 1 wrote and read the shuffle,
// before action 2 reads it again) and `mid-read` (while action 1's reading
// stage runs; its tasks are held for `firstReadDelay` seconds so that a second
// wave of readers starts after the loss).
import { shuffleFigures, type ShuffleFigures } from './shuffle-figures.ts';
import { waitFor } from '../k8s/wait-for.ts';
import { findExecutorJvm, waitForExecutorExit } from './executor-jvms.ts';
import type { ExecutorJvm } from './executor-jvms.ts';
import type { SparkCluster } from './spark-cluster.ts';
import type { ExecutorSummary, StageData } from './spark-rest.ts';
import { submitShuffleJob } from './submit-shuffle-job.ts';
import type { MapDoneMarker, ResultMarker, ShuffleJob } from './submit-shuffle-job.ts';

export type LossMoment = 'between-actions' | 'mid-read';

export interface LossScenarioOptions {
  cluster: SparkCluster;
  name: string;
  signal: 'SIGPWR' | 'SIGKILL';
  when: LossMoment;
  /** Decommissioning enabled in the app (default true). */
  decommission?: boolean;
  /** For `mid-read`: seconds each reading task of action 1 waits (default 3). */
  firstReadDelay?: number;
  records?: number;
  keys?: number;
}

/** The figures of a scenario, printed by the proof test. */
export interface LossFigures extends ShuffleFigures {
  scenario: string;
  signal: string;
  when: LossMoment;
  sparkVersion: string;
  victim: { executorId: string; host: string; mapTasks: number; shuffleWriteBytes: number };
  /** From the signal to the JVM's exit (decommissioning: migration included). */
  signalToExitMs: number;
  removeReason: string;
  firstActionSeconds: number;
  secondActionSeconds: number;
  scenarioSeconds: number;
  correct: boolean;
}

export interface LossScenarioOutcome {
  figures: LossFigures;
  result: ResultMarker;
  stages: StageData[];
  victim: ExecutorSummary;
  jvm: ExecutorJvm;
  sparkProperties: Map<string, string>;
  driverExit: string;
}

export async function runLossScenario(opts: LossScenarioOptions): Promise<LossScenarioOutcome> {
  const started = Date.now();
  const job = await submitShuffleJob({
    cluster: opts.cluster,
    name: opts.name,
    decommission: opts.decommission ?? true,
    firstReadDelay: opts.when === 'mid-read' ? (opts.firstReadDelay ?? 3) : 0,
    records: opts.records,
    keys: opts.keys,
  });
  try {
    if (opts.when === 'between-actions') await job.waitForMarker('map-done.json');
    else await waitForReadingStage(job);

    const mapStage = firstMapStage(await job.rest.stages(job.appId));
    const summary = (await job.rest.stageAttempt(job.appId, mapStage.stageId, mapStage.attemptId)).executorSummary ?? {};
    const [victimId, victimStats] = Object.entries(summary).sort((a, b) => b[1].shuffleWrite - a[1].shuffleWrite)[0] ?? [];
    if (!victimId || !victimStats) throw new Error(`no executor wrote shuffle output in stage ${mapStage.stageId}`);
    const jvm = findExecutorJvm(job.appId, victimId);
    if (!jvm) throw new Error(`executor ${victimId} of ${job.appId} not found in /proc`);

    process.kill(jvm.pid, opts.signal);
    const signalToExitMs = await waitForExecutorExit(jvm, 120_000);
    const victim = await waitFor(`the driver to record executor ${victimId} as removed`, async () => {
      const executor = (await job.rest.allExecutors(job.appId)).find((e) => e.id === victimId);
      return executor && !executor.isActive ? executor : undefined;
    }, { timeoutMs: 60_000 });

    const firstAction = await job.waitForMarker<MapDoneMarker>('map-done.json');
    job.release('continue');
    const result = await job.waitForMarker<ResultMarker>('result.json');
    const stages = await job.rest.stages(job.appId);
    const sparkProperties = await job.rest.sparkProperties(job.appId);
    job.release('finish');
    const driverExit = await job.waitForExit(60_000);

    const figures: LossFigures = {
      scenario: opts.name,
      signal: opts.signal,
      when: opts.when,
      sparkVersion: job.sparkVersion,
      victim: { executorId: victimId, host: jvm.host, mapTasks: victimStats.succeededTasks, shuffleWriteBytes: victimStats.shuffleWrite },
      signalToExitMs,
      removeReason: victim.removeReason ?? '',
      ...shuffleFigures(mapStage, stages),
      firstActionSeconds: firstAction.seconds,
      secondActionSeconds: result.seconds,
      scenarioSeconds: Math.round((Date.now() - started) / 100) / 10,
      correct: result.correct,
    };
    return { figures, result, stages, victim, jvm, sparkProperties, driverExit };
  } finally {
    await job.stop();
  }
}

/** The stage that first wrote the shuffle (the lowest stage id with shuffle output). */
function firstMapStage(stages: readonly StageData[]): StageData {
  const writers = stages.filter((s) => s.status === 'COMPLETE' && s.shuffleWriteBytes > 0).sort((a, b) => a.stageId - b.stageId);
  if (!writers[0]) throw new Error('no completed stage has written shuffle output');
  return writers[0];
}

/** Until action 1's map stage is complete and its reading stage has tasks running. */
async function waitForReadingStage(job: ShuffleJob): Promise<void> {
  await waitFor('action 1 to be reading the shuffle', async () => {
    const stages = await job.rest.stages(job.appId);
    const mapDone = stages.some((s) => s.status === 'COMPLETE' && s.shuffleWriteBytes > 0);
    const reading = stages.some((s) => s.status === 'ACTIVE' && s.shuffleWriteBytes === 0 && s.numActiveTasks > 0);
    return mapDone && reading ? true : undefined;
  }, { timeoutMs: 180_000, intervalMs: 100, giveUpIf: () => (job.process.isRunning() ? undefined : 'the driver exited') });
}
