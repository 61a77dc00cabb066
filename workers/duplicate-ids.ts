// Audit M11: two running processes with one id fight. Two controllers replace each other's
// incarnation on every heartbeat and the pools take the containers of each in turn; two agents
// with one host id split that host's creates and destroys between two engines. Before it
// registers (and, for an agent, before it polls its host's queue), a process watches the registry
// for one heartbeat interval and a half: if its id is still heartbeating there, it refuses to
// start. One that stopped heartbeating (a crash, a restart) is no obstacle; nor is a registry that
// does not answer (Temporal down: the process serves meanwhile, and a duplicate shows in the logs).
import type { Client } from '@temporalio/client';
import { withDeadline } from '../common/deadline';
import { clusterQuery } from '../workflows/messages';
import { scopedNames, type Scope } from '../workflows/scope';

export interface Member {
  kind: 'controller' | 'host';
  id: string;
}

const ID_SETTING = { controller: 'GUST_CONTROLLER_ID', host: 'GUST_HOST_ID' } as const;

/**
 * Resolves when `member.id` is free; throws when a running process heartbeats with it.
 * `replaces`: the incarnation an in-process restart of a controller takes over.
 */
export async function refuseDuplicateId(
  client: Client,
  scope: Scope,
  member: Member,
  heartbeatMs: number,
  options: { replaces?: string | undefined } = {},
): Promise<void> {
  const hosts = client.workflow.getHandle(scopedNames(scope).hostsWorkflowId);
  const registered = async (): Promise<{ incarnation?: string; lastSeen?: number } | undefined> => {
    const view = await withDeadline(hosts.query(clusterQuery), 2000);
    return member.kind === 'controller'
      ? view.controllers.find((c) => c.controllerId === member.id)
      : view.hosts.find((h) => h.id === member.id);
  };
  let first: Awaited<ReturnType<typeof registered>>;
  try {
    first = await registered();
  } catch {
    return; // no registry yet, or Temporal does not answer
  }
  if (!first || first.lastSeen === undefined) return;
  if (options.replaces !== undefined && first.incarnation === options.replaces) return;
  const deadline = Date.now() + 1.5 * heartbeatMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, heartbeatMs / 4)));
    const now = await registered().catch(() => undefined);
    if (!now) return; // expired: it is gone
    if (now.incarnation !== first.incarnation || (now.lastSeen ?? 0) > first.lastSeen) {
      const incarnation = now.incarnation === undefined ? '' : ` (incarnation ${now.incarnation})`;
      throw new Error(
        `${member.kind} id '${member.id}' is in use by a running ${member.kind}${incarnation}: ` +
          `give every ${member.kind} its own ${ID_SETTING[member.kind]}`,
      );
    }
  }
}
