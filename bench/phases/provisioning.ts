// Provisioning throughput: n containers asked for at once through the pool workflow (request →
// create → leased to the controller) vs the same n made with backend.create directly.
import type { Action } from '../../common/types';
import { NODEJS_RUNTIME_IMAGE, NODEJS_RUNTIME_KIND } from '../../runtimes/nodejs/runtime-entry';
import { inParallel } from '../lib/gust-stack';
import { spread } from '../lib/latency';
import { containersOf, waitFor, type PhaseContext } from '../lib/phase-context';
import { NOOP_CODE } from '../lib/runtime-origin';
import type { Figure } from '../lib/report';

export interface ProvisioningSettings {
  provisionContainers: number;
  provisionRepeats: number;
}

export interface ProvisioningResult {
  containers: number;
  directPerSecond: number[];
  workflowsPerSecond: number[];
}

export async function provisioning(
  ctx: PhaseContext & { settings: ProvisioningSettings },
): Promise<{ result: ProvisioningResult; figures: Figure[] }> {
  const { stack, log, prefix, settings } = ctx;
  const n = settings.provisionContainers;
  const direct: number[] = [];
  const workflows: number[] = [];
  for (let rep = 0; rep < settings.provisionRepeats; rep++) {
    let t = performance.now();
    const made = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        stack.backend.create({
          name: `gust_${prefix}_prov_${rep}_${i}`,
          image: NODEJS_RUNTIME_IMAGE,
          kind: NODEJS_RUNTIME_KIND,
          memoryMB: 256,
          env: {},
          labels: stack.labels,
        }),
      ),
    );
    direct.push(n / ((performance.now() - t) / 1000));
    await inParallel(made, 6, (c) => stack.backend.destroy(c.id));

    const name = `${prefix}-prov${rep}`;
    // Not created through the API: the control plane is asked for its containers directly.
    const action: Action = {
      namespace: 'guest',
      name,
      version: '0.0.1',
      exec: { kind: NODEJS_RUNTIME_KIND, code: NOOP_CODE },
      parameters: [],
      annotations: [],
      limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
      publish: false,
      updated: Date.now(),
    };
    t = performance.now();
    await stack.controlPlane.requestContainers(action, n);
    const ok = await waitFor(
      ctx,
      `${n} leased containers of ${name}`,
      () => containersOf(stack, name).length >= n,
      120_000,
    );
    if (!ok) throw new Error(`only ${containersOf(stack, name).length}/${n} containers leased`);
    workflows.push(n / ((performance.now() - t) / 1000));
    log(
      `  ${n} containers: ${direct.at(-1)!.toFixed(2)}/s directly, ${workflows.at(-1)!.toFixed(2)}/s through the workflows`,
    );
  }
  const d = spread(direct).median;
  const w = spread(workflows).median;
  return {
    result: { containers: n, directPerSecond: direct, workflowsPerSecond: workflows },
    figures: [
      {
        figure: `Provisioning, ${n} containers at once (pool workflow → leased)`,
        value: w,
        unit: 'containers/s',
        floor: d,
        floorName: 'backend.create directly',
        ratio: w / d,
        noise: spread(workflows.map((v, i) => v / direct[i]!)),
      },
    ],
  };
}
