// A reader of a Spark driver's monitoring REST API (/api/v1), the view
// spotguard's controller has of an application. Only the fields the tests
// read are typed; Spark sends more.
import { request } from 'undici';

export interface ApplicationInfo {
  id: string;
  name: string;
  attempts: { startTime: string; endTime: string; completed: boolean }[];
}

export type StageStatus = 'ACTIVE' | 'COMPLETE' | 'FAILED' | 'PENDING' | 'SKIPPED';

/** One attempt of one stage (the API lists every attempt as its own entry). */
export interface StageData {
  stageId: number;
  attemptId: number;
  status: StageStatus;
  name: string;
  numTasks: number;
  numActiveTasks: number;
  numCompleteTasks: number;
  numFailedTasks: number;
  numKilledTasks: number;
  shuffleReadBytes: number;
  shuffleWriteBytes: number;
  shuffleWriteRecords: number;
  failureReason?: string;
  submissionTime?: string;
  completionTime?: string;
  /** Per executor id, with details (the default for stages/{id}/{attempt}). */
  executorSummary?: Record<string, { shuffleWrite: number; shuffleRead: number; taskTime: number; failedTasks: number; succeededTasks: number }>;
}

export interface ExecutorSummary {
  id: string;
  hostPort: string;
  isActive: boolean;
  totalCores: number;
  totalTasks: number;
  completedTasks: number;
  failedTasks: number;
  totalShuffleRead: number;
  totalShuffleWrite: number;
  addTime: string;
  removeTime?: string;
  removeReason?: string;
}

export interface JobData {
  jobId: number;
  status: string;
  stageIds: number[];
  numTasks: number;
  numSkippedStages: number;
  numSkippedTasks: number;
  numFailedStages: number;
}

export interface EnvironmentInfo {
  sparkProperties: [string, string][];
}

export interface SparkRest {
  baseUrl: string;
  applications(): Promise<ApplicationInfo[]>;
  /** Every attempt of every stage. */
  stages(appId: string): Promise<StageData[]>;
  /** Every attempt of one stage, newest first as Spark lists them. */
  stageAttempts(appId: string, stageId: number): Promise<StageData[]>;
  stageAttempt(appId: string, stageId: number, attemptId: number): Promise<StageData>;
  jobs(appId: string): Promise<JobData[]>;
  /** Active executors and the driver. */
  executors(appId: string): Promise<ExecutorSummary[]>;
  /** Every executor the app ever had, removed ones with removeTime and removeReason. */
  allExecutors(appId: string): Promise<ExecutorSummary[]>;
  /** spark.* properties as a map. */
  sparkProperties(appId: string): Promise<Map<string, string>>;
}

/** A reader of the driver UI at `uiUrl` (e.g. http://127.0.0.1:4040). */
export function sparkRest(uiUrl: string, timeoutMs = 10_000): SparkRest {
  const baseUrl = `${uiUrl.replace(/\/$/, '')}/api/v1`;
  const get = async <T>(path: string): Promise<T> => {
    const res = await request(`${baseUrl}${path}`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    if (res.statusCode !== 200) {
      const text = (await res.body.text()).slice(0, 200);
      throw new Error(`GET ${baseUrl}${path} answered ${res.statusCode}: ${text}`);
    }
    return (await res.body.json()) as T;
  };
  const app = (appId: string): string => `/applications/${encodeURIComponent(appId)}`;
  return {
    baseUrl,
    applications: () => get('/applications'),
    stages: (appId) => get(`${app(appId)}/stages`),
    stageAttempts: (appId, stageId) => get(`${app(appId)}/stages/${stageId}`),
    stageAttempt: (appId, stageId, attemptId) => get(`${app(appId)}/stages/${stageId}/${attemptId}`),
    jobs: (appId) => get(`${app(appId)}/jobs`),
    executors: (appId) => get(`${app(appId)}/executors`),
    allExecutors: (appId) => get(`${app(appId)}/allexecutors`),
    sparkProperties: async (appId) => new Map((await get<EnvironmentInfo>(`${app(appId)}/environment`)).sparkProperties),
  };
}
