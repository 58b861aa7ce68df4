import { CoreV1Api, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';

/** The API groups spotguard talks to, made once from one kubeconfig. */
export interface KubeApis {
  readonly core: CoreV1Api;
  readonly events: EventsV1Api;
}

export function createKubeApis(kc: KubeConfig): KubeApis {
  return { core: kc.makeApiClient(CoreV1Api), events: kc.makeApiClient(EventsV1Api) };
}
