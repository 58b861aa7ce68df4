// A real Kubernetes control plane for tests: etcd, kube-apiserver,
// kube-controller-manager and kwok, started as local processes on loopback.
//
//   const cp = await startControlPlane({ dir });
//   ... KUBECONFIG=cp.kubeconfigPath ...
//   await cp.stop();
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { auditArgs, auditPolicyYaml } from './audit-log.ts';
import {
  DEFAULT_CONTROLLERS, apiserverArgs, controllerManagerArgs, etcdArgs, kwokArgs,
} from './component-args.ts';
import type { ClusterLayout } from './component-args.ts';
import { newToken, writeKubeconfig, writeServiceAccountKeys, writeTokenFile } from './cluster-files.ts';
import { freePorts } from './free-port.ts';
import { k8sBinDir } from './k8s-versions.ts';
import { kwokConfigYaml } from './kwok-stages.ts';
import { logTails, tailFile } from './log-tails.ts';
import { startProcess, stopPid } from './managed-process.ts';
import type { ManagedProcess } from './managed-process.ts';
import { waitFor } from './wait-for.ts';

export interface ControlPlaneOptions {
  /** Working directory: data, certificates, kubeconfig, logs/ and pids.json. */
  dir: string;
  /** Progress lines ("etcd ready in 0.4s"). */
  log?: (line: string) => void;
  /** Where the binaries are (default: build.sh's output, see k8s-versions.ts). */
  binDir?: string;
  /** How long kube-apiserver may take to report /readyz (default 90 s). */
  readyTimeoutMs?: number;
  controllers?: string[];
  /** Keep the processes running after this Node process exits (cluster-up). */
  detach?: boolean;
  /**
   * Users whose requests kube-apiserver records in an audit log (`auditLogPath`, level Metadata;
   * read it with audit-log.ts). Absent: no audit log.
   */
  auditUsers?: string[];
}

export interface ControlPlane {
  dir: string;
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a system:masters user. */
  token: string;
  /** PEM bundle that verifies the apiserver's certificate. */
  caPath: string;
  processes: ManagedProcess[];
  /** The last lines of every component log, for a failing test's output. */
  logTails(lines?: number): string;
  /** The audit log (see ControlPlaneOptions.auditUsers), or null when none is written. */
  auditLogPath: string | null;
  /**
   * Stops kube-apiserver alone (SIGTERM, then SIGKILL after 2 s; at once with `kill`): etcd, the
   * controller-manager and kwok keep running and retry, as in an API server outage.
   */
  stopApiserver(opts?: { kill?: boolean }): Promise<void>;
  /** Starts kube-apiserver again on the same port, certificates and etcd; resolves once /readyz answers 200. */
  startApiserver(): Promise<void>;
  stop(): Promise<void>;
}

/** One line per process in <dir>/pids.json, so cluster-down (or a later start) can stop them. */
export interface RecordedProcess {
  name: string;
  pid: number;
  binary: string;
}

const PIDS_FILE = 'pids.json';

/** Starts the control plane; retried once when a port picked as free was taken in between. */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  try {
    return await startOnce(opts);
  } catch (err) {
    if (!/address already in use/.test((err as Error).message)) throw err;
    opts.log?.('a port was taken meanwhile; starting again on new ports');
    return startOnce(opts);
  }
}

async function startOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const binDir = opts.binDir ?? k8sBinDir();
  const bin = (name: string): string => {
    const path = join(binDir, name);
    if (!existsSync(path)) throw new Error(`${name} not found in ${binDir}: run test/harness/k8s/build.sh (make k8s-binaries)`);
    return path;
  };
  const binaries = {
    etcd: bin('etcd'),
    apiserver: bin('kube-apiserver'),
    controllerManager: bin('kube-controller-manager'),
    kwok: bin('kwok'),
  };

  await stopRecordedProcesses(opts.dir);
  const logsDir = join(opts.dir, 'logs');
  const [etcdClient, etcdPeer, apiserver, kwok] = (await freePorts(4)) as [number, number, number, number];
  const layout: ClusterLayout = {
    dir: opts.dir,
    etcdDataDir: join(opts.dir, 'etcd'),
    certDir: join(opts.dir, 'certs'),
    tokenFile: join(opts.dir, 'tokens.csv'),
    saPrivateKey: join(opts.dir, 'sa.key'),
    saPublicKey: join(opts.dir, 'sa.pub'),
    kubeconfig: join(opts.dir, 'kubeconfig'),
    kwokConfig: join(opts.dir, 'kwok.yaml'),
    ports: { etcdClient, etcdPeer, apiserver, kwok },
  };
  rmSync(layout.etcdDataDir, { recursive: true, force: true });
  rmSync(layout.certDir, { recursive: true, force: true });
  mkdirSync(logsDir, { recursive: true });
  mkdirSync(layout.certDir, { recursive: true });
  const token = newToken();
  writeTokenFile(layout.tokenFile, token);
  writeServiceAccountKeys(layout.saPrivateKey, layout.saPublicKey);
  writeFileSync(layout.kwokConfig, kwokConfigYaml());
  let auditLogPath: string | null = null;
  const apiserverExtraArgs: string[] = [];
  if (opts.auditUsers) {
    const auditDir = join(opts.dir, 'audit');
    rmSync(auditDir, { recursive: true, force: true });
    mkdirSync(auditDir, { recursive: true });
    auditLogPath = join(auditDir, 'audit.log');
    const policyPath = join(auditDir, 'policy.yaml');
    writeFileSync(policyPath, auditPolicyYaml(opts.auditUsers));
    apiserverExtraArgs.push(...auditArgs(policyPath, auditLogPath));
  }

  const server = `https://127.0.0.1:${apiserver}`;
  // kube-apiserver writes a self-signed serving certificate and its CA into --cert-dir.
  const caPath = join(layout.certDir, 'apiserver.crt');
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });
  const processes: ManagedProcess[] = [];
  const recordPids = (): void => {
    const recorded: RecordedProcess[] = processes.map((p) => ({ name: p.name, pid: p.pid, binary: p.binary }));
    writeFileSync(join(opts.dir, PIDS_FILE), JSON.stringify(recorded, null, 2) + '\n');
  };
  const stopAll = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await p.stop();
    rmSync(join(opts.dir, PIDS_FILE), { force: true });
  };

  const start = async (
    name: string, binary: string, args: string[], ready: () => Promise<true | undefined>, timeoutMs: number,
    /** A restart: takes this place in `processes` and appends to the log, so the first run's lines stay readable. */
    restartAt?: number,
  ): Promise<void> => {
    const t0 = Date.now();
    const logPath = join(logsDir, `${name}.log`);
    writeFileSync(logPath, `# ${restartAt === undefined ? '' : 'restarted: '}${binary} ${args.join(' ')}\n`,
      { flag: restartAt === undefined ? 'w' : 'a' });
    const proc = startProcess({ name, binary, args, logPath, detach: opts.detach ?? false });
    processes.splice(restartAt ?? processes.length, 0, proc);
    recordPids();
    let exitReason: string | undefined;
    void proc.exited.then((reason) => { exitReason = reason; });
    try {
      await waitFor(`${name} did not become ready`, ready, { timeoutMs, giveUpIf: () => exitReason && `process ${exitReason}` });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n----- ${logPath} (last 30 lines) -----\n${tailFile(logPath, 30)}`, { cause: err });
    }
    log(`${name} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  };

  const get = async (url: string, auth: boolean, dispatcher = insecure): Promise<{ status: number; body: string }> => {
    const res = await request(url, {
      dispatcher,
      headers: auth ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5_000),
    });
    return { status: res.statusCode, body: await res.body.text() };
  };

  try {
    await start('etcd', binaries.etcd, etcdArgs(layout), async () => {
      const res = await get(`http://127.0.0.1:${etcdClient}/health`, false);
      return res.status === 200 && res.body.includes('"health":"true"') ? true : undefined;
    }, 30_000);

    await start('kube-apiserver', binaries.apiserver, [...apiserverArgs(layout), ...apiserverExtraArgs], async () => {
      const res = await get(`${server}/readyz`, true);
      if (res.status !== 200) throw new Error(`/readyz ${res.status}: ${res.body.slice(0, 200)}`);
      return true;
    }, opts.readyTimeoutMs ?? 90_000);
    writeKubeconfig(layout.kubeconfig, { server, token, caPath });

    // Ready once the service-account controller has made `default/default` (pods need it to be admitted).
    await start('kube-controller-manager', binaries.controllerManager,
      controllerManagerArgs(layout, opts.controllers ?? DEFAULT_CONTROLLERS), async () => {
        const res = await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, true);
        return res.status === 200 ? true : undefined;
      }, 60_000);

    await start('kwok', binaries.kwok, kwokArgs(layout), async () => {
      const res = await get(`http://127.0.0.1:${kwok}/healthz`, false);
      return res.status === 200 ? true : undefined;
    }, 30_000);
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    await insecure.close();
  }

  const apiserverIndex = (): number => processes.findIndex((p) => p.name === 'kube-apiserver');
  const stopApiserver = async (stopOpts: { kill?: boolean } = {}): Promise<void> => {
    const proc = processes[apiserverIndex()];
    if (!proc?.isRunning()) return;
    if (stopOpts.kill) {
      process.kill(proc.pid, 'SIGKILL');
      await proc.exited;
    } else {
      // It stops listening at once on SIGTERM but may then wait ~10 s on its clients' watches: SIGKILL after 2 s.
      await stopPid(proc.pid, proc.binary, () => !proc.isRunning(), 2_000);
      await proc.exited;
    }
  };
  const startApiserver = async (): Promise<void> => {
    const at = apiserverIndex();
    const old = processes[at];
    if (at < 0 || !old) throw new Error('startApiserver: this control plane has no kube-apiserver');
    if (old.isRunning()) throw new Error('startApiserver: kube-apiserver is still running (stopApiserver first)');
    processes.splice(at, 1);
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      await start('kube-apiserver', binaries.apiserver, [...apiserverArgs(layout), ...apiserverExtraArgs], async () => {
        const res = await get(`${server}/readyz`, true, dispatcher);
        if (res.status !== 200) throw new Error(`/readyz ${res.status}: ${res.body.slice(0, 200)}`);
        return true;
      }, opts.readyTimeoutMs ?? 90_000, at);
    } finally {
      await dispatcher.close();
    }
  };

  return {
    dir: opts.dir,
    kubeconfigPath: layout.kubeconfig,
    server,
    token,
    caPath,
    processes,
    logTails: (lines = 40) => logTails(logsDir, lines),
    auditLogPath,
    stopApiserver,
    startApiserver,
    stop: stopAll,
  };
}

/** Stops the processes listed in <dir>/pids.json (a cluster started by cluster-up, or one a crashed run left). */
export async function stopRecordedProcesses(dir: string): Promise<RecordedProcess[]> {
  const path = join(dir, PIDS_FILE);
  if (!existsSync(path)) return [];
  const recorded = JSON.parse(readFileSync(path, 'utf8')) as RecordedProcess[];
  for (const p of [...recorded].reverse()) await stopPid(p.pid, p.binary);
  rmSync(path, { force: true });
  return recorded;
}
