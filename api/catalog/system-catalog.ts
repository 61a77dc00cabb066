// The `whisk.system` catalog Gust seeds at start (openwhisk-catalog packages/utils, and native
// alarms): public packages whose actions any namespace may invoke, bind or use in sequences.
// Seeding is idempotent and safe from many controllers: an entity is written only when missing or
// different from this release's.
import { DEFAULT_LIMITS } from '../action-limits';
import type { Action, KeyValue } from '../../common/types';
import type { EntityStore } from '../../store/entity-store';
import type { Package } from '../package-model';

export const SYSTEM_NAMESPACE = 'whisk.system';
/** A controller-native action (no container): the alarms feeds. */
export const BUILTIN_KIND = 'builtin';

/** The utils actions, behaving as OpenWhisk's catalog does. */
const UTILS: Record<string, { description: string; code: string }> = {
  echo: {
    description: 'Returns the input',
    code: 'function main(params) { return params || {}; }',
  },
  cat: {
    description: 'Concatenates input into a string',
    code: "function main(msg) { var lines = msg.lines || []; return { lines: lines, payload: lines.join('\\n') }; }",
  },
  sort: {
    description: 'Sorts an array',
    code: 'function main(msg) { var lines = msg.lines || []; lines.sort(); return { lines: lines, length: lines.length }; }',
  },
  head: {
    description: 'Extract prefix of an array',
    code: 'function main(msg) { var lines = msg.lines || []; var num = msg.num || 1; return { lines: lines.slice(0, num), num: num }; }',
  },
  split: {
    description: 'Split a string into an array',
    code: "function main(msg) { var payload = (msg.payload || '').toString(); var separator = msg.separator || /\\r?\\n/; return { lines: payload.split(separator), payload: msg.payload }; }",
  },
  date: {
    description: 'Current date and time',
    code: 'function main() { return { date: new Date().toLocaleString() }; }',
  },
  smash: {
    description: 'Nests all properties under given property',
    code: 'function main(msg) { var field = msg.fieldName; delete msg.fieldName; var out = {}; out[field] = msg; return out; }',
  },
  namespace: {
    description: 'Returns namespace for the authorization key used to invoke this action',
    code: 'function main() { return { namespace: process.env.__OW_NAMESPACE }; }',
  },
  hosturl: {
    description: 'Returns the URL to activation an action or trigger',
    code:
      "function main(params) { var ns = process.env.__OW_NAMESPACE; var base = process.env.__OW_API_HOST + '/api/v1/namespaces/' + ns; " +
      "var url = params.trigger ? base + '/triggers/' + params.trigger : params.action ? base + '/actions/' + params.action : process.env.__OW_API_HOST; return { url: url }; }",
  },
};

const ALARMS: Record<string, string> = {
  alarm: 'Fire trigger when alarm occurs (cron)',
  interval: 'Fire trigger at specified interval (minutes)',
  once: 'Fire trigger once when alarm occurs (date)',
};

const description = (text: string): KeyValue[] => [{ key: 'description', value: text }];

function catalogPackage(name: string, text: string): Package {
  return {
    namespace: SYSTEM_NAMESPACE,
    name,
    version: '0.0.1',
    publish: true,
    parameters: [],
    annotations: [...description(text), { key: 'binding', value: {} }],
    updated: 0,
  };
}

function catalogAction(pkg: string, name: string, exec: Action['exec'], annotations: KeyValue[]): Action {
  return {
    namespace: `${SYSTEM_NAMESPACE}/${pkg}`,
    name,
    version: '0.0.1',
    exec,
    parameters: [],
    annotations: [...annotations, { key: 'exec', value: exec.kind }],
    limits: { ...DEFAULT_LIMITS },
    publish: false,
    updated: 0,
  };
}

/** Every entity of the catalog, as this release defines it. */
export function systemCatalog(): { packages: Package[]; actions: Action[] } {
  const packages = [
    catalogPackage('utils', 'Building blocks that format and assemble data'),
    catalogPackage('alarms', 'Alarms and periodic utility (Temporal Schedules)'),
  ];
  const actions = [
    ...Object.entries(UTILS).map(([name, { description: text, code }]) =>
      catalogAction('utils', name, { kind: 'nodejs:20', code, binary: false }, description(text)),
    ),
    ...Object.entries(ALARMS).map(([name, text]) =>
      catalogAction('alarms', name, { kind: BUILTIN_KIND, binary: false }, [
        ...description(text),
        { key: 'feed', value: true },
      ]),
    ),
  ];
  return { packages, actions };
}

/** Writes what is missing or out of date; returns how many entities were written. */
export async function seedSystemCatalog(
  store: Pick<EntityStore, 'get' | 'put'>,
  now = Date.now(),
): Promise<number> {
  const { packages, actions } = systemCatalog();
  let written = 0;
  const sync = async (collection: 'packages' | 'actions', doc: Package | Action): Promise<void> => {
    const existing = await store.get<Package | Action>(collection, doc.namespace, doc.name);
    const { updated: _u, ...wanted } = doc;
    if (existing) {
      const { updated: _e, ...current } = existing;
      if (JSON.stringify(current) === JSON.stringify(wanted)) return;
    }
    await store.put(collection, { ...doc, updated: now }, 'overwrite');
    written += 1;
  };
  for (const pkg of packages) await sync('packages', pkg);
  for (const action of actions) await sync('actions', action);
  return written;
}
