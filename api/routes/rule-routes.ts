// /api/v1/namespaces/:namespace/rules: list, get (with `status`), create/update, enable/disable
// (POST `{status}`), delete (Rules.scala). Status lives on the rule; a rule whose trigger is gone
// reads as inactive.
import type { FastifyInstance } from 'fastify';
import { bumpPatchVersion } from '../action-model';
import { resolveAction } from '../action-resolution';
import type { ApiContext } from '../api-context';
import { assertEntityName } from '../entity-names';
import { apiError, isApiError } from '../errors';
import { mergeKeyValues } from '../key-values';
import { ANY_OBJECT, ENTITY_PARAMS, KEY_VALUES, putEntitySchema } from '../schemas';
import { entityAccess, registerListRoute } from './entity-listing';
import type { EntityRef, Rule, RulePut, RuleStatus, Trigger } from '../trigger-model';
import { parseEntityRef, refPath, ruleSummary } from '../trigger-model';

interface RuleRoute {
  Params: { namespace: string; name: string };
}

const RULE_PUT_BODY = {
  type: 'object',
  properties: {
    trigger: {},
    action: {},
    annotations: KEY_VALUES,
    version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$' },
    publish: { type: 'boolean' },
  },
} as const;

export async function ruleRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { entities } = ctx;

  const triggerOf = (rule: Pick<Rule, 'trigger'>): Promise<Trigger | undefined> =>
    entities.get<Trigger>('triggers', rule.trigger.path, rule.trigger.name);

  /** `status` as GET answers it: inactive once the trigger is gone. */
  async function withStatus(rule: Rule): Promise<Rule> {
    return (await triggerOf(rule)) ? rule : { ...rule, status: 'inactive' };
  }

  registerListRoute<Rule>(app, entities, 'rules', ruleSummary);

  const rules = entityAccess<Rule>(entities, 'rules');
  const find = rules.find;

  app.get<RuleRoute>(
    '/:name',
    { schema: { params: ENTITY_PARAMS, response: { 200: ANY_OBJECT } } },
    async (request) => withStatus(await find(request.namespace, request.params.name)),
  );

  /** The rule's trigger must exist in the caller's namespace; its action must be readable. */
  async function checkRefs(namespace: string, trigger: EntityRef, action: EntityRef): Promise<void> {
    if (trigger.path !== namespace || !(await entities.get<Trigger>('triggers', trigger.path, trigger.name)))
      throw apiError('GUST_ERR_RULE_TRIGGER_MISSING', `/${refPath(trigger)}`);
    const [actionNamespace, pkg] = action.path.split('/') as [string, string | undefined];
    try {
      await resolveAction(entities, actionNamespace, pkg, action.name, namespace);
    } catch (error) {
      if (isApiError(error) && error.statusCode === 404)
        throw apiError('GUST_ERR_RULE_ACTION_MISSING', `/${refPath(action)}`);
      throw error;
    }
  }

  app.put<RuleRoute & { Querystring: { overwrite?: string }; Body: RulePut }>(
    '/:name',
    { schema: putEntitySchema(RULE_PUT_BODY, ANY_OBJECT) },
    async (request) => {
      const { name } = request.params;
      assertEntityName(name);
      const { namespace } = request;
      const body = request.body ?? {};
      const existing = await entities.store.get<Rule>('rules', namespace, name);
      if (existing && request.query.overwrite !== 'true') throw apiError('GUST_ERR_ENTITY_EXISTS');
      const trigger =
        body.trigger === undefined ? existing?.trigger : parseEntityRef(body.trigger, namespace);
      const action = body.action === undefined ? existing?.action : parseEntityRef(body.action, namespace);
      if (!trigger || !action) throw apiError('GUST_ERR_RULE_INCOMPLETE');
      await checkRefs(namespace, trigger, action);
      const rule: Rule = {
        namespace,
        name,
        version: body.version ?? (existing ? bumpPatchVersion(existing.version) : '0.0.1'),
        publish: body.publish ?? existing?.publish ?? false,
        annotations: mergeKeyValues(body.annotations ?? existing?.annotations),
        trigger,
        action,
        // A new rule is active; an update keeps the status it had.
        status: existing?.status ?? 'active',
        updated: Date.now(),
      };
      if (!(await entities.put('rules', rule, existing ? 'overwrite' : 'create')))
        throw apiError('GUST_ERR_ENTITY_CONFLICT');
      return rule;
    },
  );

  app.post<RuleRoute & { Body: { status?: unknown } }>(
    '/:name',
    { schema: { params: ENTITY_PARAMS, body: { type: 'object' } } },
    async (request, reply) => {
      const status = request.body?.status;
      if (status !== 'active' && status !== 'inactive') throw apiError('GUST_ERR_RULE_BAD_STATUS');
      const rule = await find(request.namespace, request.params.name);
      if (!(await triggerOf(rule))) throw apiError('GUST_ERR_RULE_NO_TRIGGER');
      if (rule.status !== status) {
        const changed: Rule = { ...rule, status: status as RuleStatus, updated: Date.now() };
        await entities.put('rules', changed, 'overwrite');
      }
      return reply.code(200).type('text/plain; charset=UTF-8').send('OK');
    },
  );

  app.delete<RuleRoute>(
    '/:name',
    { schema: { params: ENTITY_PARAMS, response: { 200: ANY_OBJECT } } },
    async (request) => {
      const rule = await rules.remove(request.namespace, request.params.name);
      return { ...rule, status: 'inactive' };
    },
  );
}
