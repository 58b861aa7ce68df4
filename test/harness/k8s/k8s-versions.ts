// Versions and binary location of the Kubernetes test world. versions.env is
// the single source of truth, shared with build.sh.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface K8sVersions {
  k8s: string;
  etcd: string;
  kwok: string;
}

const versionsFile = new URL('./versions.env', import.meta.url);

/** Parses versions.env (KEY=value lines, # comments). */
export function k8sVersions(): K8sVersions {
  const values = new Map<string, string>();
  for (const line of readFileSync(versionsFile, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(\S+)\s*$/.exec(line);
    if (match) values.set(match[1]!, match[2]!);
  }
  const get = (key: string): string => {
    const value = values.get(key);
    if (!value) throw new Error(`${versionsFile.pathname} has no ${key}`);
    return value;
  };
  return { k8s: get('K8S_VERSION'), etcd: get('ETCD_VERSION'), kwok: get('KWOK_VERSION') };
}

/**
 * Where build.sh put the binaries: $SPOTGUARD_K8S_BIN_DIR, else
 * ${SPOTGUARD_CACHE:-~/.cache/spotguard}/k8s-<version>/bin.
 */
export function k8sBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPOTGUARD_K8S_BIN_DIR) return env.SPOTGUARD_K8S_BIN_DIR;
  const cache = env.SPOTGUARD_CACHE || join(homedir(), '.cache', 'spotguard');
  return join(cache, `k8s-${k8sVersions().k8s}`, 'bin');
}
