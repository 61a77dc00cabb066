// /api/v1/namespaces/:namespace/packages: list, get, create/update, delete
// (docs/reference/openwhisk-contract.md §3.3, §4.4).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Action } from '../../common/types';
import { bumpPatchVersion } from '../action-model';
import type { ApiContext } from '../api-context';
import { boundPackage, readablePackage } from '../entitlement';
import { assertEntityName, entityNamespace, isEntityName, resolveNamespace } from '../entity-names';
import { apiError } from '../errors';
import type { ListQuery } from '../list-params';
import { LIST_QUERY_PROPERTIES, page, parseListParams } from '../list-params';
import type { Package, PackagePut } from '../package-model';
import { assertPackageNameAllowed, buildPackage, packageSummary, packageView } from '../package-model';
import { keyValueOf, mergeKeyValues } from '../key-values';
import { callerOf } from '../request-context';
import {
  BOOLEAN_STRING,
  ENTITY_PARAMS,
  NAMESPACE_PARAMS,
  PACKAGE,
  PACKAGE_PUT_BODY,
  countBody,
  putEntitySchema,
} from '../schemas';

interface PackageRoute {
  Params: { namespace: string; name: string };
}

export async function packageRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { entities } = ctx;

  async function contentsOf(namespace: string, name: string): Promise<Action[]> {
    const packagePath = entityNamespace(namespace, name);
    return (await entities.list<Action>('actions', namespace)).filter(
      (action) => action.namespace === packagePath,
    );
  }

  app.get<{ Querystring: ListQuery }>(
    '/',
    {
      config: { crossNamespace: true },
      schema: {
        params: NAMESPACE_PARAMS,
        querystring: { type: 'object', properties: LIST_QUERY_PROPERTIES },
        response: {
          200: {
            anyOf: [
              { type: 'array', items: { type: 'object', additionalProperties: true } },
              countBody('packages'),
            ],
          },
        },
      },
    },
    async (request) => {
      const params = parseListParams('packages', request.query);
      let packages = await entities.list<Package>('packages', request.namespace);
      // Another namespace's listing shows only its public packages that are not bindings.
      if (request.namespace !== callerOf(request).namespace)
        packages = packages.filter((pkg) => pkg.publish && !pkg.binding);
      if (params.count) return { packages: packages.length };
      return page(packages, params).map(packageSummary);
    },
  );

  app.get<PackageRoute>(
    '/:name',
    { config: { crossNamespace: true }, schema: { params: ENTITY_PARAMS, response: { 200: PACKAGE } } },
    async (request) => {
      const { name } = request.params;
      assertEntityName(name);
      const pkg = await readablePackage(entities, callerOf(request), request.namespace, name);
      // A binding shows the bound package's contents, and its parameters under the binding's.
      const bound = pkg.binding && (await boundPackage(entities, pkg.namespace, pkg.binding));
      const source = bound || pkg;
      const contents = (await contentsOf(source.namespace, source.name)).map((a) => ({
        name: a.name,
        version: a.version,
        annotations: a.annotations,
      }));
      const isFeed = (a: { annotations: Package['annotations'] }) =>
        keyValueOf(a.annotations, 'feed') !== undefined;
      const view = packageView(pkg);
      if (bound) view.parameters = mergeKeyValues(bound.parameters, pkg.parameters);
      return {
        ...view,
        actions: contents.filter((a) => !isFeed(a)),
        feeds: contents.filter(isFeed),
      };
    },
  );

  app.put<PackageRoute & { Querystring: { overwrite?: string }; Body: PackagePut }>(
    '/:name',
    { schema: putEntitySchema(PACKAGE_PUT_BODY, PACKAGE) },
    async (request) => {
      const { name } = request.params;
      assertEntityName(name);
      assertPackageNameAllowed(name);
      const body: PackagePut = { ...(request.body ?? {}) };
      // `binding: {}` is how a package that is not a binding reads back: it means no binding.
      if (body.binding && Object.keys(body.binding).length === 0) delete body.binding;
      if (body.binding) body.binding = await checkBinding(request, body.binding);
      const existing = await entities.store.get<Package>('packages', request.namespace, name);
      if (existing && request.query.overwrite !== 'true') throw apiError('GUST_ERR_ENTITY_EXISTS');
      if (existing && !existing.binding && body.binding) throw apiError('GUST_ERR_PACKAGE_NOT_BINDING');
      const pkg = buildPackage(request.namespace, name, body, existing, Date.now(), bumpPatchVersion);
      const written = await entities.put('packages', pkg, existing ? 'overwrite' : 'create');
      if (!written) throw apiError('GUST_ERR_ENTITY_CONFLICT');
      return packageView(pkg);
    },
  );

  /** A binding names an existing, non-binding package the caller may read. */
  async function checkBinding(
    request: FastifyRequest,
    binding: { namespace: string; name: string },
  ): Promise<{ namespace: string; name: string }> {
    // Audit L7: `{}` or an illegal name is the caller's mistake (400), not a TypeError (500).
    const namespace = resolveNamespace(binding.namespace ?? '_', request.namespace);
    if (!isEntityName(namespace) || typeof binding.name !== 'string' || !isEntityName(binding.name))
      throw apiError(
        'GUST_ERR_REQUEST_MALFORMED',
        'binding must name a package: {"namespace": …, "name": …}',
      );
    const target = await entities.get<Package>('packages', namespace, binding.name);
    if (namespace !== request.namespace && target && !target.publish) {
      throw apiError('GUST_ERR_AUTH_FORBIDDEN', `${namespace}/${binding.name}`);
    }
    if (!target) throw apiError('GUST_ERR_BINDING_MISSING');
    if (target.binding) throw apiError('GUST_ERR_BINDING_TO_BINDING');
    return { namespace, name: binding.name };
  }

  app.delete<PackageRoute & { Querystring: { force?: string } }>(
    '/:name',
    {
      schema: {
        params: ENTITY_PARAMS,
        querystring: { type: 'object', properties: { force: BOOLEAN_STRING } },
        response: { 200: PACKAGE },
      },
    },
    async (request) => {
      const { name } = request.params;
      assertEntityName(name);
      const pkg = await entities.store.get<Package>('packages', request.namespace, name);
      if (!pkg) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
      const contents = pkg.binding ? [] : await contentsOf(request.namespace, name);
      if (contents.length > 0 && request.query.force !== 'true') {
        throw apiError('GUST_ERR_PACKAGE_NOT_EMPTY', contents.length);
      }
      for (const action of contents) await entities.delete('actions', action.namespace, action.name);
      await entities.delete('packages', request.namespace, name);
      return packageView(pkg);
    },
  );
}
