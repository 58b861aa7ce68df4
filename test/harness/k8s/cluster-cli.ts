// make cluster-up / cluster-down: a local control plane left running in the
// background, for poking at with kubectl or running the agent by hand.
//
//   node test/harness/k8s/cluster-cli.ts up     starts it, prints KUBECONFIG=<path>
//   node test/harness/k8s/cluster-cli.ts down   stops the processes recorded in <dir>/pids.json
//   node test/harness/k8s/cluster-cli.ts logs   prints the tails of the component logs
//
// The directory is $SPOTGUARD_CLUSTER_DIR, default /tmp/spotguard-cluster.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, stopRecordedProcesses } from './control-plane.ts';
import type { RecordedProcess } from './control-plane.ts';
import { k8sBinDir } from './k8s-versions.ts';
import { logTails } from './log-tails.ts';
import { pidIsAlive } from './managed-process.ts';

const dir = process.env.SPOTGUARD_CLUSTER_DIR || '/tmp/spotguard-cluster';
const command = process.argv[2];

function runningProcesses(): RecordedProcess[] {
  const path = join(dir, 'pids.json');
  if (!existsSync(path)) return [];
  const recorded = JSON.parse(readFileSync(path, 'utf8')) as RecordedProcess[];
  return recorded.filter((p) => pidIsAlive(p.pid, p.binary));
}

async function up(): Promise<void> {
  const running = runningProcesses();
  if (running.length === 4) {
    console.log(`cluster already running in ${dir} (pids ${running.map((p) => p.pid).join(' ')})`);
  } else {
    const t0 = Date.now();
    const cp = await startControlPlane({ dir, detach: true, log: (line) => console.log(line) });
    console.log(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${cp.server}, logs in ${join(dir, 'logs')}`);
    console.log(`kubectl: ${join(k8sBinDir(), 'kubectl')}`);
  }
  console.log(`KUBECONFIG=${join(dir, 'kubeconfig')}`);
}

async function down(): Promise<void> {
  const stopped = await stopRecordedProcesses(dir);
  console.log(stopped.length ? `stopped ${stopped.map((p) => `${p.name} (${p.pid})`).join(', ')}` : `no cluster recorded in ${dir}`);
}

try {
  switch (command) {
    case 'up': await up(); break;
    case 'down': await down(); break;
    case 'logs': console.log(logTails(join(dir, 'logs'), Number(process.argv[3] ?? 40))); break;
    default:
      console.error('usage: cluster-cli.ts up|down|logs [lines]');
      process.exitCode = 2;
  }
} catch (err) {
  console.error(`cluster ${command} failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
