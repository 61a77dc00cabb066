// Firing a trigger (Triggers.scala `activateRules`, docs/reference/openwhisk-contract.md §2.2 of
// the parity review): every active rule invokes its action, non-blocking, through the ordinary
// invoke path (throttles apply); the trigger's activation record has one JSON line per rule,
// inactive ones included. At most once, no ordering: as OpenWhisk.
import type { Activation } from '../../common/types';
import type { ActivationWriter } from '../activation-writer';
import { resolveAction } from '../action-resolution';
import type { Identity } from '../authenticator';
import type { EntityCache } from '../entity-cache';
import { isApiError } from '../errors';
import { newActivationId } from '../../common/activation-id';
import type { NamespaceThrottles } from '../namespace-throttles';
import type { Rule, Trigger } from '../trigger-model';
import { refPath } from '../trigger-model';
import type { CompositionStarter } from './composition-starter';

export interface TriggerFireDeps {
  entities: EntityCache;
  starter: CompositionStarter;
  /** The invoke throttles each rule's action passes through. */
  throttles: NamespaceThrottles;
  writer: ActivationWriter;
  now?: () => number;
  onError?: (message: string, error: unknown) => void;
}

interface RuleOutcome {
  statusCode: 0 | 1 | 3;
  success: boolean;
  activationId?: string;
  error?: string;
  rule: string;
  action: string;
}

/** The rules that name `trigger` (read from the store, so a change made anywhere counts at once). */
export async function rulesOf(entities: EntityCache, trigger: Trigger): Promise<Rule[]> {
  const path = `${trigger.namespace}/${trigger.name}`;
  const rules = await entities.list<Rule>('rules', trigger.namespace);
  return rules.filter((rule) => refPath(rule.trigger) === path);
}

export class TriggerFiring {
  readonly #deps: TriggerFireDeps;
  readonly #now: () => number;

  constructor(deps: TriggerFireDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Fires `trigger` as `identity` with `args` (trigger parameters already merged under them).
   * Undefined when no rule is active (no record, HTTP 204); otherwise the trigger activation id,
   * returned before the rules run, and a promise of the record once it is written.
   * `transactionId` is the fire request's; the rules' activations share it.
   */
  async fire(
    trigger: Trigger,
    identity: Identity,
    args: Record<string, unknown>,
    payload: Record<string, unknown>,
    transactionId?: string,
  ): Promise<{ activationId: string; recorded: Promise<Activation> } | undefined> {
    const rules = await rulesOf(this.#deps.entities, trigger);
    if (!rules.some((rule) => rule.status === 'active')) return undefined;
    const activationId = newActivationId();
    const start = this.#now();
    const recorded = Promise.all(
      rules.map((rule) => this.#activate(rule, identity, args, transactionId)),
    ).then((outcomes) => {
      const record: Activation = {
        namespace: identity.namespace,
        name: trigger.name,
        version: trigger.version,
        subject: identity.subject,
        activationId,
        start,
        end: 0,
        duration: 0,
        statusCode: 0,
        response: { status: 'success', statusCode: 0, success: true, result: payload },
        logs: outcomes.map((outcome) => JSON.stringify(outcome)),
        annotations: [],
        publish: false,
      };
      try {
        this.#deps.writer.write(record);
      } catch (error) {
        this.#deps.onError?.(`trigger activation ${activationId} was not recorded`, error);
      }
      return record;
    });
    return { activationId, recorded };
  }

  async #activate(
    rule: Rule,
    identity: Identity,
    args: Record<string, unknown>,
    transactionId: string | undefined,
  ): Promise<RuleOutcome> {
    const ruleName = `${rule.namespace}/${rule.name}`;
    const actionName = refPath(rule.action);
    if (rule.status !== 'active') {
      return {
        statusCode: 1,
        success: false,
        error: `Rule '${ruleName}' is inactive, action '${actionName}' was not activated.`,
        rule: ruleName,
        action: actionName,
      };
    }
    try {
      const [namespace, pkg] = rule.action.path.split('/') as [string, string | undefined];
      const resolved = await resolveAction(
        this.#deps.entities,
        namespace,
        pkg,
        rule.action.name,
        identity.namespace,
      );
      this.#deps.throttles.admit(identity.namespace);
      const started = this.#deps.starter.start({ ...resolved, payload: args, identity, transactionId });
      if (started.kind === 'refused') throw started.error;
      const { activationId } = started;
      return { statusCode: 0, success: true, activationId, rule: ruleName, action: actionName };
    } catch (error) {
      const clientError = isApiError(error) && error.statusCode < 500;
      if (!clientError) this.#deps.onError?.(`rule ${ruleName} could not invoke ${actionName}`, error);
      return {
        statusCode: clientError ? 1 : 3,
        success: false,
        error: error instanceof Error ? error.message : String(error),
        rule: ruleName,
        action: actionName,
      };
    }
  }
}
