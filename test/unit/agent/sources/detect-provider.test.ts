import { test } from 'node:test';
import assert from 'node:assert/strict';
import { providerFromProviderId } from '../../../../agent/sources/detect-provider.ts';

test("a Node's spec.providerID names its cloud", () => {
  const cases: Array<[string | undefined, string | null]> = [
    ['aws:///us-east-1a/i-0abc1234def567890', 'aws'],
    ['gce://my-project/us-central1-a/gke-pool-1-abcd', 'gcp'],
    ['azure:///subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss/virtualMachines/0', 'azure'],
    ['kind://docker/kind/kind-control-plane', null],
    ['', null],
    [undefined, null],
  ];
  for (const [id, provider] of cases) assert.equal(providerFromProviderId(id), provider, String(id));
});
