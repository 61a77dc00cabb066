// A container that dies between activations (killed, crashed, out of memory) is reported to the
// pool that owns it as soon as its host's engine says so (audit M8), through the pool's `repair`
// signal: the pool revokes the lease and creates a replacement, so the next user is not the one
// who finds the container dead. Containers the agent removes itself are expected to exit (and a
// pool's `repair` leaves containers it is removing alone anyway).
import type { Client } from '@temporalio/client';
import type { ContainerBackend, ContainerEvent } from '../backends/backend';
import type { Logger } from '../common/logger';
import { LABELS } from '../common/names';
import { isWorkflowGone } from '../common/temporal-errors';
import { repairSignal } from '../workflows/messages';

/** Exits remembered (reported, or expected because Gust removes the container): each repairs once at most. */
const REMEMBERED = 1000;
/** Containers die in numbers when their engine restarts, which answers nothing for a while: retry. */
const ATTEMPTS = 60;
const RETRY_MS = 1000;

export function reportContainerExits(options: {
  backend: ContainerBackend;
  client: Client;
  hostId: string;
  log: Logger;
}): { expectExit(containerId: string): void; stop(): void } {
  const { backend, client, hostId, log } = options;
  const reported = new Set<string>();
  const remember = (containerId: string): void => {
    reported.add(containerId);
    if (reported.size > REMEMBERED) reported.delete(reported.values().next().value!);
  };
  /** Name and labels from the event, else from the engine (gone already: nothing to report). */
  const identify = async (
    event: ContainerEvent,
  ): Promise<{ name: string; labels: Record<string, string> } | undefined> => {
    if (event.name && event.labels) return { name: event.name, labels: event.labels };
    const containers = await backend.list({ [LABELS.managed]: 'true', [LABELS.host]: hostId });
    return containers.find((c) => c.id === event.containerId);
  };
  const report = async (event: ContainerEvent): Promise<void> => {
    if (reported.has(event.containerId)) return;
    const container = await identify(event);
    const owner = container?.labels[LABELS.owner];
    // Another host's (a shared engine), or not a pool's (a forwarder, a test's own).
    if (!container || !owner || container.labels[LABELS.host] !== hostId) return;
    remember(event.containerId);
    log.warn({ container: container.name, owner, event: event.type }, 'container died: its pool replaces it');
    try {
      // A forwarder's death cuts its action container off: that one is replaced.
      const name = container.labels[LABELS.forwarderOf] ?? container.name;
      await client.workflow.getHandle(owner).signal(repairSignal, { names: [name] });
    } catch (err) {
      // A pool that has finished owns nothing any more: reconcile removes what is left.
      if (!isWorkflowGone(err)) throw err;
    }
  };
  let closed = false;
  const reportWithRetries = async (event: ContainerEvent): Promise<void> => {
    for (let attempt = 1; !closed; attempt++) {
      try {
        return await report(event);
      } catch (err) {
        if (attempt >= ATTEMPTS) {
          log.warn({ err, containerId: event.containerId }, 'could not report a dead container');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  };
  const unsubscribe = backend.onEvent((event) => void reportWithRetries(event));
  return {
    expectExit: remember,
    stop() {
      closed = true;
      unsubscribe();
    },
  };
}
