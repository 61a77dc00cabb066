// Activities of one agent (task queue `host-<hostId>`): thin and idempotent over a ContainerBackend.
//   createContainer: by deterministic name, so a retry after a crash finds the first container.
//   destroyContainer: a container that is already gone counts as destroyed.
// Timeouts and retries are chosen by the caller, in workflows/activities.ts.
import { ApplicationFailure, activityInfo, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import type { ContainerBackend } from '../backends/backend';
import { DEFAULT_HOST_MAX_CREATES } from '../common/config';
import { LABELS } from '../common/names';
import { creationTurns } from './creation-turns';
import type { ContainerInfo } from '../common/types';

export interface CreateContainerInput {
  name: string;
  kind: string;
  memoryMB: number;
  /** Blackbox image; otherwise the agent's image for `kind`. */
  image?: string;
  /** Extra labels (owner, action, version). */
  labels: Record<string, string>;
  /** The action's `limits.concurrency`, when above 1 (a stem cell's action is not known yet). */
  concurrency?: number;
}

export interface DestroyContainerInput {
  name: string;
  /** Backend id, when the create returned one. */
  containerId?: string;
}

export interface HostActivitiesOptions {
  backend: ContainerBackend;
  hostId: string;
  /** Runtime image of a kind, e.g. `nodejs:20` → `gust/action-nodejs-v20`. */
  imageForKind: (kind: string) => string;
  /** How often a long create heartbeats. Must be well under the caller's heartbeatTimeout. @default 2000 */
  heartbeatEveryMs?: number;
  /** Creations run at once on this host; more wait (heartbeating) for a turn. @default DEFAULT_HOST_MAX_CREATES */
  maxConcurrentCreates?: number;
  /**
   * A creation whose turn has come waits while this host's CPU is at least this busy (0–1), at most
   * `createCpuWaitMs` (activities/creation-turns.ts). Only for a host whose containers run on this
   * machine. @default 1 (never waits)
   */
  createMaxCpu?: number;
  /** @default DEFAULT_CREATE_MAX_CPU_WAIT_MS */
  createCpuWaitMs?: number;
  /** Told before a pool's container is destroyed: its exit is no death to report (container-exits.ts). */
  destroying?: (containerId: string) => void;
  /** The agent endpoint this host advertises, stamped on every container it reports (backends/host-routes.ts). */
  agentUrl?: string;
}

export function createHostActivities(options: HostActivitiesOptions) {
  const { backend, hostId, imageForKind } = options;
  const heartbeatEveryMs = options.heartbeatEveryMs ?? 2000;
  const maxConcurrentCreates = options.maxConcurrentCreates ?? DEFAULT_HOST_MAX_CREATES;
  if (!(Number.isInteger(maxConcurrentCreates) && maxConcurrentCreates > 0))
    throw new Error('maxConcurrentCreates must be a positive integer');
  const createTurn = creationTurns({
    size: maxConcurrentCreates,
    maxBusy: options.createMaxCpu,
    maxWaitMs: options.createCpuWaitMs,
    // Called in the waiting activity's context: the log line carries its workflow and activity.
    waited: (ms) => log.info('creation waited for CPU to spare', { waitedMs: ms }),
  });
  const ownLabels = { [LABELS.managed]: 'true', [LABELS.host]: hostId };
  const { agentUrl } = options;
  const advertised = (info: ContainerInfo): ContainerInfo =>
    agentUrl === undefined ? info : { ...info, agentUrl };

  async function findByName(name: string): Promise<ContainerInfo | undefined> {
    return (await backend.list(ownLabels)).find((c) => c.name === name);
  }

  return {
    async createContainer(input: CreateContainerInput): Promise<ContainerInfo> {
      if (activityInfo().attempt > 1)
        log.info('retrying create', { name: input.name, attempt: activityInfo().attempt });
      heartbeat();
      const timer = setInterval(() => heartbeat(), heartbeatEveryMs);
      try {
        return await createTurn(
          async () =>
            advertised(
              await backend.create(
                {
                  name: input.name,
                  image: input.image ?? imageForKind(input.kind),
                  kind: input.kind,
                  memoryMB: input.memoryMB,
                  // Overlapping runs only for actions that allow them (audit C1): an image reads this at
                  // start; Gust's runtime also learns it from the /init env (a stem cell has no action yet).
                  env: (input.concurrency ?? 1) > 1 ? { __OW_ALLOW_CONCURRENT: 'true' } : {},
                  // Gust's own runtime images serve the runtime socket; a blackbox image gets a forwarder.
                  socketRuntime: input.image === undefined,
                  labels: {
                    ...input.labels,
                    ...ownLabels,
                    [LABELS.kind]: input.kind,
                    [LABELS.memory]: String(input.memoryMB),
                  },
                },
                { signal: cancellationSignal() },
              ),
            ),
          cancellationSignal(),
          // A container for no action yet is a stem cell: it yields to the containers a load asked for.
          { spare: input.labels[LABELS.action] === undefined },
        );
      } catch (err) {
        // A developer error (no such image, no executable) fails the same way every time.
        const e = err as { developerError?: boolean; code?: string; message?: string };
        if (e.developerError)
          throw ApplicationFailure.nonRetryable(e.message ?? String(err), e.code ?? 'DeveloperError');
        throw err;
      } finally {
        clearInterval(timer);
      }
    },

    async destroyContainer(input: DestroyContainerInput): Promise<void> {
      const id = input.containerId ?? (await findByName(input.name))?.id;
      if (id === undefined) return;
      options.destroying?.(id);
      await backend.destroy(id);
    },

    /** Every container Gust made on this host. */
    async listContainers(): Promise<ContainerInfo[]> {
      return (await backend.list(ownLabels)).map(advertised);
    },
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
