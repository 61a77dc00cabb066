// The ControlPlane the router calls (common/contracts.ts), over a Temporal client. Only the cold
// path and after-the-fact reports come here; warm invocations never do.
//
// Public surface:
//   createControlPlane(options: ControlPlaneOptions): ControlPlane
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, type SignalDefinition } from '@temporalio/common';
import type { ControlPlane } from '../common/contracts';
import type { Action, Lease } from '../common/types';
import {
  actionSpecOf,
  containerFailedSignal,
  requestContainersSignal,
  stemCellClaimedSignal,
  withdrawContainersSignal,
  type ActionSpec,
} from '../workflows/messages';
import { DEFAULT_SCOPE, scopedNames, type Scope } from '../workflows/scope';
import { actionPoolStartOptions } from '../workflows/start-options';
import { isWorkflowGone } from '../common/temporal-errors';

export interface ControlPlaneOptions {
  client: Client;
  controllerId: string;
  /** @default DEFAULT_SCOPE (no prefix) */
  scope?: Scope;
  /** Containers a pool this controller starts creates at once (GUST_POOL_MAX_CREATING). @default the pool's */
  maxCreating?: number;
}

/** What starting an action's pool needs to know of the action. */
type PoolOf = Pick<ActionSpec, 'ref' | 'kind' | 'memoryMB'>;

export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const { client, controllerId } = options;
  const scope = options.scope ?? DEFAULT_SCOPE;
  const names = scopedNames(scope);

  // Signal-with-start: the first message for an action creates its pool.
  const signalPool = async <T>(spec: PoolOf, signal: SignalDefinition<[T]>, arg: T): Promise<void> => {
    await client.workflow.signalWithStart('actionPoolWorkflow', {
      ...actionPoolStartOptions(scope, spec, { maxCreating: options.maxCreating }),
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      signal,
      signalArgs: [arg],
    });
  };

  return {
    async requestContainers(
      action: Action,
      count: number,
      invokingNamespace?: string,
      requestId?: string,
    ): Promise<void> {
      const spec = actionSpecOf(action, invokingNamespace);
      await signalPool(spec, requestContainersSignal, {
        controllerId,
        action: spec,
        count,
        ...(requestId ? { requestId } : {}),
      });
    },

    async withdrawContainers(action: Action, count: number, invokingNamespace?: string): Promise<void> {
      const { ref } = actionSpecOf(action, invokingNamespace);
      try {
        await client.workflow
          .getHandle(names.actionPoolId(ref))
          .signal(withdrawContainersSignal, { controllerId, count });
      } catch (err) {
        // No pool: nothing is on its way.
        if (!isWorkflowGone(err)) throw err;
      }
    },

    async stemCellClaimed(lease: Lease, action: Action, invokingNamespace?: string): Promise<void> {
      const { kind, memoryMB, id } = lease.container;
      const spec = actionSpecOf(action, invokingNamespace);
      await client.workflow
        .getHandle(names.stemCellPoolId(kind, memoryMB))
        .signal(stemCellClaimedSignal, { containerId: id, controllerId, action: spec });
    },

    async containerFailed(lease: Lease, reason: string): Promise<void> {
      const { container, action } = lease;
      const failure = { containerId: container.id, reason };
      if (action) {
        // Signal-with-start: a claimed stem cell may fail before its hand-over has started the
        // action's pool, which must still hear of it (audit H6).
        const { kind, memoryMB } = container;
        await signalPool({ ref: action, kind, memoryMB }, containerFailedSignal, failure);
        return;
      }
      try {
        await client.workflow
          .getHandle(names.stemCellPoolId(container.kind, container.memoryMB))
          .signal(containerFailedSignal, failure);
      } catch (err) {
        if (!isWorkflowGone(err)) throw err;
      }
    },
  };
}
