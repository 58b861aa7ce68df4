// Where install.sh put Spark (a pyspark venv) and the environment every Spark
// process of the test world runs with. versions.env is the single source of
// truth for the version, shared with install.sh.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface SparkInstall {
  version: string;
  /** The pyspark package directory: bin/spark-class, bin/spark-submit, jars/. */
  sparkHome: string;
  javaHome: string;
  /** The venv's python, for the driver and the executors' Python workers. */
  python: string;
}

const here = new URL('.', import.meta.url).pathname;

/** The pinned pyspark version (versions.env). */
export function pysparkVersion(): string {
  const text = readFileSync(join(here, 'versions.env'), 'utf8');
  const match = /^\s*PYSPARK_VERSION=(\S+)\s*$/m.exec(text);
  if (!match) throw new Error(`${join(here, 'versions.env')} has no PYSPARK_VERSION`);
  return match[1]!;
}

/** ${SPOTGUARD_CACHE:-~/.cache/spotguard}/pyspark-<version> */
export function sparkInstallRoot(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.SPOTGUARD_CACHE || join(homedir(), '.cache', 'spotguard');
  return join(cache, `pyspark-${pysparkVersion()}`);
}

/** Reads what install.sh recorded; throws, naming the fix, when Spark is not installed. */
export function sparkInstall(env: NodeJS.ProcessEnv = process.env): SparkInstall {
  const root = sparkInstallRoot(env);
  const version = pysparkVersion();
  const stamp = join(root, '.installed');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== `pyspark=${version}`) {
    throw new Error(`pyspark ${version} is not installed in ${root}: run 'make spark-env' (test/harness/spark/install.sh)`);
  }
  const values = new Map<string, string>();
  for (const line of readFileSync(join(root, 'spark.env'), 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) values.set(match[1]!, match[2]!);
  }
  const get = (key: string): string => {
    const value = values.get(key);
    if (!value) throw new Error(`${join(root, 'spark.env')} has no ${key}: rerun test/harness/spark/install.sh`);
    return value;
  };
  return { version, sparkHome: get('SPARK_HOME'), javaHome: get('JAVA_HOME'), python: get('SPARK_PYTHON') };
}

/** Runs install.sh (a quick no-op when up to date), then reads the install. For tests run outside make. */
export function ensureSparkInstall(env: NodeJS.ProcessEnv = process.env): SparkInstall {
  execFileSync(join(here, 'install.sh'), [], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return sparkInstall(env);
}

/**
 * The environment of a Spark process: this process's environment without any
 * SPARK_… / PYSPARK_… settings of the user, plus the install's Java, Spark and
 * Python, an empty conf dir of the test world, and `localIp` as the address
 * every server of the process binds to (SPARK_LOCAL_IP; the web UI included).
 */
export function sparkProcessEnv(install: SparkInstall, confDir: string, localIp: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(SPARK_|PYSPARK_|JAVA_HOME$|PYTHONPATH$)/.test(key)) env[key] = value;
  }
  return {
    ...env,
    JAVA_HOME: install.javaHome,
    SPARK_HOME: install.sparkHome,
    SPARK_CONF_DIR: confDir,
    SPARK_LOCAL_IP: localIp,
    SPARK_NO_DAEMONIZE: '1',
    PYSPARK_PYTHON: install.python,
    PYSPARK_DRIVER_PYTHON: install.python,
    ...extra,
  };
}
