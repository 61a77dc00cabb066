// Activities of one controller (task queue `controller-<controllerId>`): the router-sync calls the
// workflows make, over the router's RouterLeases. Every answer carries the incarnation of the
// controller process that ran it, so pools can tell a restarted controller from the old one.
import { cancelled, heartbeat } from '@temporalio/activity';
import type { RouterLeases } from '../common/contracts';
import type { ContainerUsage, Lease } from '../common/types';

export interface ControllerActivitiesOptions {
  routerLeases: RouterLeases;
  incarnation: string;
}

export function createControllerActivities({ routerLeases, incarnation }: ControllerActivitiesOptions) {
  return {
    async leaseContainers(leases: Lease[]): Promise<{ incarnation: string }> {
      routerLeases.lease(leases);
      return { incarnation };
    },

    /**
     * Resolves once the router has drained the containers' in-flight work. A cancellation (this
     * worker stopping) ends the wait, so a stopping controller never waits on a drain; the router
     * has dropped the containers either way, and the pool asks again.
     */
    async revokeContainers(containerIds: string[]): Promise<{ incarnation: string }> {
      const timer = setInterval(() => heartbeat(), 2000);
      try {
        await Promise.race([routerLeases.revoke(containerIds), cancelled()]);
      } finally {
        clearInterval(timer);
      }
      return { incarnation };
    },

    async collectUsage(): Promise<{ incarnation: string; usage: ContainerUsage[] }> {
      return { incarnation, usage: routerLeases.usage() };
    },
  };
}

export type ControllerActivities = ReturnType<typeof createControllerActivities>;
