// One test file's world: a real control plane (with an audit log of the
// agent's requests), the agent's RBAC and token from manifests/base, client
// APIs, and the agents and simulators started by its tests (stopped at close).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Provider } from '../../../../core/domain/notice.ts';
import { readAuditEvents } from '../../../harness/k8s/audit-log.ts';
import type { AuditEvent } from '../../../harness/k8s/audit-log.ts';
import { startControlPlane } from '../../../harness/k8s/control-plane.ts';
import type { ControlPlane } from '../../../harness/k8s/control-plane.ts';
import { kubeClients } from '../../../harness/k8s/kube-clients.ts';
import type { KubeClients } from '../../../harness/k8s/kube-clients.ts';
import { tailFile } from '../../../harness/k8s/log-tails.ts';
import { withLogTails } from '../../../harness/k8s/with-log-tails.ts';
import { agentUser, createAgentIdentity } from './agent-identity.ts';
import type { AgentIdentity } from './agent-identity.ts';
import { startSimulatorInProcess, startSimulatorProcess } from './simulator-control.ts';
import type { SimulatorControl } from './simulator-control.ts';
import { newLogFile, startAgent } from './start-agent.ts';
import type { RunningAgent } from './start-agent.ts';

export interface AgentWorld {
  readonly cp: ControlPlane;
  readonly k: KubeClients;
  readonly dir: string;
  readonly identity: AgentIdentity;
  /** Starts `bin/spotguard agent` as the agent's ServiceAccount; its log goes to <dir>/agent-<name>.log. */
  startAgent(opts: { nodeName: string; simulator: SimulatorControl; args?: string[]; logName?: string }): Promise<RunningAgent>;
  /** A metadata simulator: the `spotguard simulate` process, or (inProcess) one in this process. */
  startSimulator(provider: Provider, opts?: { inProcess?: boolean }): Promise<SimulatorControl>;
  /** The requests the agent made so far (from the apiserver's audit log). */
  agentRequests(): AuditEvent[];
  /** Component logs and agent logs, for a failing test. */
  logTails(lines?: number): string;
  close(): Promise<void>;
}

export async function startAgentWorld(): Promise<AgentWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'spotguard-agent-'));
  let cp: ControlPlane;
  try {
    cp = await startControlPlane({ dir, auditUsers: [agentUser] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const k = kubeClients(cp.kubeconfigPath);
  const identity = await createAgentIdentity(cp, k, dir);
  const agents: RunningAgent[] = [];
  const simulators: SimulatorControl[] = [];
  const agentLogs = new Set<string>();
  return {
    cp,
    k,
    dir,
    identity,
    async startAgent({ nodeName, simulator, args, logName }) {
      const logPath = join(dir, `agent-${logName ?? nodeName}.log`);
      if (!agentLogs.has(logPath)) newLogFile(logPath);
      agentLogs.add(logPath);
      const agent = await startAgent({
        nodeName, kubeconfig: identity.kubeconfigPath, metadataEndpoint: simulator.url, provider: simulator.provider, logPath, ...(args ? { args } : {}),
      });
      agents.push(agent);
      return agent;
    },
    async startSimulator(provider, opts = {}) {
      const sim = opts.inProcess ? await startSimulatorInProcess(provider) : await startSimulatorProcess(provider);
      simulators.push(sim);
      return sim;
    },
    agentRequests: () => readAuditEvents(cp.auditLogPath!).filter((e) => e.user.username === identity.username),
    logTails(lines = 40) {
      const agentTails = [...agentLogs].map((path) => `----- ${path} (last ${lines} lines) -----\n${tailFile(path, lines)}`);
      return [cp.logTails(Math.min(lines, 25)), ...agentTails].join('\n');
    },
    async close() {
      await Promise.all(agents.map((a) => a.kill('SIGKILL')));
      await Promise.all(simulators.map((s) => s.close()));
      await cp.stop();
      if (process.env.SPOTGUARD_KEEP_TEST_DIRS !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A test body that prints the component and agent logs when it fails. */
export function logged(world: () => AgentWorld | undefined, fn: (t: TestContext) => Promise<void>): (t: TestContext) => Promise<void> {
  return withLogTails(world, fn, 60);
}
