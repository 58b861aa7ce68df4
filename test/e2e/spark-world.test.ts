// Proof that the Spark test world is real, and a measurement of the physics
// spotguard relies on: a Spark standalone master and three workers (three
// "nodes" on 127.0.0.2-4) from the pinned pyspark, running a shuffle job with
// decommissioning enabled. One executor holding map output is signalled once:
//
// - SIGPWR (what spotguard sends): the executor migrates its shuffle blocks and
//   exits; the job's later reads use the migrated blocks, no map task runs again,
//   and the driver records `Executor decommission` as the reason.
// - SIGKILL (the machine is reclaimed): its map output is gone and the lost map
//   tasks run again. How the REST API shows that depends on when the loss is
//   seen. Lost between two actions: the driver unregisters the output before
//   the next job, whose copy of the map stage (a new stage id, attempt 0) runs
//   the lost tasks instead of being SKIPPED; no fetch fails. Lost while
//   reducers read: they fail with (Metadata)FetchFailed and the original map
//   stage gets attempt 1.
//
// Each scenario prints its figures as one JSON line (test diagnostics).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withLogTails } from '../harness/k8s/with-log-tails.ts';
import { runLossScenario } from '../harness/spark/run-loss-scenario.ts';
import type { LossMoment, LossScenarioOutcome } from '../harness/spark/run-loss-scenario.ts';
import { startSparkCluster } from '../harness/spark/spark-cluster.ts';
import type { SparkCluster } from '../harness/spark/spark-cluster.ts';
import { ensureSparkInstall } from '../harness/spark/spark-install.ts';

let cluster: SparkCluster | undefined;
let dir: string | undefined;

describe('the Spark test world: losing an executor that holds shuffle output', { timeout: 600_000 }, () => {
  before(async () => {
    const install = ensureSparkInstall();
    dir = mkdtempSync(join(tmpdir(), 'spotguard-spark-'));
    cluster = await startSparkCluster({ dir, workers: 3, coresPerWorker: 1, memoryPerWorker: '1g', install });
  });

  after(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const scenario = (
    name: string,
    signal: 'SIGPWR' | 'SIGKILL',
    when: LossMoment,
    check: (outcome: LossScenarioOutcome) => void,
  ): void => {
    it(`${signal} ${when.replace('-', ' ')}`, withLogTails(() => cluster, async (t) => {
      const outcome = await runLossScenario({ cluster: cluster!, name, signal, when });
      t.diagnostic(`spark-world figures ${JSON.stringify(outcome.figures)}`);
      const { figures } = outcome;

      assert.equal(figures.correct, true, `the job's answer ${JSON.stringify(outcome.result)}`);
      assert.equal(outcome.driverExit, 'exited with code 0');
      assert.equal(outcome.sparkProperties.get('spark.decommission.enabled'), 'true');
      assert.equal(outcome.sparkProperties.get('spark.storage.decommission.shuffleBlocks.enabled'), 'true');
      // The victim held map output, and /proc and the REST API agree on where it ran.
      assert.ok(figures.victim.shuffleWriteBytes > 0 && figures.victim.mapTasks > 0);
      assert.equal(outcome.victim.hostPort.split(':')[0], outcome.jvm.host);
      assert.ok(cluster!.workers.some((w) => w.host === outcome.jvm.host), `executor host ${outcome.jvm.host} is a worker`);
      check(outcome);
    }));
  };

  scenario('pwr-between', 'SIGPWR', 'between-actions', ({ figures, stages }) => {
    assert.match(figures.removeReason, /^Executor decommission/);
    assert.deepEqual(figures.mapStageAttempts, [0]);
    assert.equal(figures.mapTasksRerun, 0);
    // The next job's copy of the map stage is skipped: the migrated output is used.
    assert.ok(figures.mapStageRuns.slice(1).every((r) => r.status === 'SKIPPED'), JSON.stringify(figures.mapStageRuns));
    assert.equal(figures.fetchFailures, 0, JSON.stringify(stages.filter((s) => s.failureReason)));
  });

  scenario('kill-between', 'SIGKILL', 'between-actions', ({ figures }) => {
    assert.doesNotMatch(figures.removeReason, /^Executor decommission/);
    assert.match(figures.removeReason, /137/); // the worker saw the JVM die of SIGKILL
    // Exactly the victim's map tasks run again, as a new stage in the next job
    // (attempt 0 there: the driver knew of the loss before the job started).
    assert.equal(figures.mapTasksRerun, figures.victim.mapTasks);
    const rerun = figures.mapStageRuns.slice(1).filter((r) => r.numCompleteTasks > 0);
    assert.equal(rerun.length, 1, JSON.stringify(figures.mapStageRuns));
    assert.notEqual(rerun[0]!.stageId, figures.mapStageRuns[0]!.stageId);
    assert.deepEqual(figures.mapStageAttempts, [0]);
    assert.equal(figures.fetchFailures, 0);
  });

  scenario('pwr-mid-read', 'SIGPWR', 'mid-read', ({ figures }) => {
    assert.match(figures.removeReason, /^Executor decommission/);
    // Readers may still hit the decommissioned executor's old address (a FetchFailed
    // and a map stage attempt 1 with no tasks), but no map task runs again.
    assert.equal(figures.mapTasksRerun, 0, JSON.stringify(figures.mapStageRuns));
  });

  scenario('kill-mid-read', 'SIGKILL', 'mid-read', ({ figures }) => {
    assert.doesNotMatch(figures.removeReason, /^Executor decommission/);
    // Readers fail to fetch; the map stage is re-attempted for the lost output.
    assert.ok(figures.fetchFailures >= 1, 'a stage attempt failed on FetchFailed');
    assert.ok(figures.mapStageAttempts.some((a) => a >= 1), `map stage attempts ${JSON.stringify(figures.mapStageAttempts)}`);
    assert.equal(figures.mapTasksRerun, figures.victim.mapTasks);
  });
});
