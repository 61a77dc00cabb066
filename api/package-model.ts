// Packages as OpenWhisk stores and returns them (docs/reference/openwhisk-contract.md §4.4), and
// how an action's package contributes default parameters (through a binding, the bound package's
// first).
import type { KeyValue } from '../common/types';
import type { EntityDocument } from '../store/entity-store';
import { apiError } from './errors';
import { mergeKeyValues } from './key-values';

export interface PackageBinding {
  namespace: string;
  name: string;
}

export interface Package extends EntityDocument {
  version: string;
  publish: boolean;
  parameters: KeyValue[];
  annotations: KeyValue[];
  /** Present only on bindings. */
  binding?: PackageBinding;
}

export interface PackagePut {
  binding?: PackageBinding;
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  version?: string;
  publish?: boolean;
}

export const RESERVED_PACKAGE_NAMES = new Set(['default']);

export function assertPackageNameAllowed(name: string): void {
  if (RESERVED_PACKAGE_NAMES.has(name)) throw apiError('GUST_ERR_PACKAGE_RESERVED', name);
}

/**
 * Triggers, packages and rules replace annotations wholesale on update
 * (docs/reference/openwhisk-contract.md §3.3).
 */
export function buildPackage(
  namespace: string,
  name: string,
  put: PackagePut,
  existing: Package | undefined,
  now: number,
  bumpVersion: (version: string) => string,
): Package {
  const binding = put.binding ?? existing?.binding;
  const pkg: Package = {
    namespace,
    name,
    version: put.version ?? (existing ? bumpVersion(existing.version) : '0.0.1'),
    publish: put.publish ?? existing?.publish ?? false,
    parameters: put.parameters ? mergeKeyValues(put.parameters) : (existing?.parameters ?? []),
    annotations: mergeKeyValues(put.annotations ?? existing?.annotations, [
      { key: 'binding', value: binding ?? {} },
    ]),
    updated: now,
  };
  if (binding) pkg.binding = binding;
  return pkg;
}

/** API form: `binding` is `{}` when the package is not a binding. */
export function packageView(pkg: Package): Record<string, unknown> {
  return { ...pkg, binding: pkg.binding ?? {} };
}

export function packageSummary(pkg: Package): Record<string, unknown> {
  return {
    namespace: pkg.namespace,
    name: pkg.name,
    version: pkg.version,
    publish: pkg.publish,
    annotations: pkg.annotations,
    updated: pkg.updated,
    binding: pkg.binding ?? false,
  };
}
