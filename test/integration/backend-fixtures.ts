// What the backend integration tests share: container specs of the Node.js runtime under the
// test's own owner label, and a minimal /run payload.
import { LABELS } from '../../common/names';
import type { ContainerSpec } from '../../common/types';
import { NODEJS_RUNTIME_IMAGE, NODEJS_RUNTIME_KIND } from '../../runtimes/nodejs/runtime-entry';

/** Specs named `gust_<owner>_<n>`, each with a new n, labelled with the owner. */
export function specsFor(
  owner: string,
  memoryMB: number,
): (overrides?: Partial<ContainerSpec>) => ContainerSpec {
  let seq = 0;
  return (overrides = {}) => ({
    name: `gust_${owner}_${seq++}`,
    image: NODEJS_RUNTIME_IMAGE,
    kind: NODEJS_RUNTIME_KIND,
    memoryMB,
    env: {},
    labels: { [LABELS.owner]: owner },
    ...overrides,
  });
}

export const runPayload = {
  value: {},
  namespace: 'guest',
  action_name: '/guest/t',
  activation_id: '1'.repeat(32),
  deadline: '0',
};
