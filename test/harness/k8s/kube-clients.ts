// client-node API clients for a kubeconfig (a started control plane's, usually).
import {
  AppsV1Api, CoordinationV1Api, CoreV1Api, EventsV1Api, KubeConfig, PolicyV1Api, VersionApi, Watch,
} from '@kubernetes/client-node';

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  policy: PolicyV1Api;
  events: EventsV1Api;
  coordination: CoordinationV1Api;
  version: VersionApi;
  watch: Watch;
}

export function kubeClients(kubeconfigPath: string): KubeClients {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    events: kc.makeApiClient(EventsV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    version: kc.makeApiClient(VersionApi),
    watch: new Watch(kc),
  };
}
