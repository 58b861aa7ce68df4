// What losing an executor cost the shuffle job, read from the driver's REST
// API the way the Spark proof test reads it (test/harness/spark/README.md):
// every run of the map stage (the first one and the copies later jobs make,
// each attempt), and the map tasks that ran again. Between two actions a lost
// map output is recomputed by the next job's copy of the stage (attempt 0),
// so re-run tasks are counted across stages of the same name.
import type { StageData } from './spark-rest.ts';

export interface MapStageRun {
  stageId: number;
  attemptId: number;
  status: string;
  numTasks: number;
  numCompleteTasks: number;
}

export interface ShuffleFigures {
  /** Attempt ids of the stage that first wrote the shuffle. */
  mapStageAttempts: number[];
  mapStageRuns: MapStageRun[];
  /** Complete tasks of every map-stage run after the first. */
  mapTasksRerun: number;
  /** Stage attempts that failed on FetchFailed / MetadataFetchFailed. */
  fetchFailures: number;
}

/** The stage that first wrote the shuffle: the lowest completed stage id with shuffle output. */
export function firstMapStage(stages: readonly StageData[]): StageData {
  const writers = stages.filter((s) => s.status === 'COMPLETE' && s.shuffleWriteBytes > 0).sort((a, b) => a.stageId - b.stageId);
  if (!writers[0]) throw new Error('no completed stage has written shuffle output');
  return writers[0];
}

export function shuffleFigures(mapStage: StageData, stages: readonly StageData[]): ShuffleFigures {
  const runs = stages
    .filter((s) => s.name === mapStage.name)
    .sort((a, b) => a.stageId - b.stageId || a.attemptId - b.attemptId)
    .map((s) => ({ stageId: s.stageId, attemptId: s.attemptId, status: s.status, numTasks: s.numTasks, numCompleteTasks: s.numCompleteTasks }));
  return {
    mapStageAttempts: runs.filter((r) => r.stageId === mapStage.stageId).map((r) => r.attemptId),
    mapStageRuns: runs,
    mapTasksRerun: runs.slice(1).reduce((sum, r) => sum + r.numCompleteTasks, 0),
    fetchFailures: stages.filter((s) => s.status === 'FAILED' && /FetchFailed/.test(s.failureReason ?? '')).length,
  };
}
