// Start-up rules for API keys: the embedded default provisions OpenWhisk's well-known guest key
// (with its copy sealed under the master key, so actions may get it: api/action-keys.ts);
// a production controller refuses to start while that key exists.
import type { EntityStore } from '../store/entity-store';
import {
  GUEST_API_KEY,
  GUEST_NAMESPACE,
  GUEST_UUID,
  makeAuthKey,
  parseApiKey,
  secretMatches,
} from './api-keys';

export async function prepareAuthKeys(
  store: EntityStore,
  options: { production: boolean; masterKey?: Buffer },
): Promise<void> {
  const existing = await store.getAuthKey(GUEST_UUID);
  const guestSecret = parseApiKey(GUEST_API_KEY)!.secret;
  const wellKnown = existing !== undefined && secretMatches(existing, guestSecret);
  if (options.production) {
    if (wellKnown) {
      throw new Error(
        `refusing to start in production: namespace '${existing.namespace}' has OpenWhisk's well-known guest key ` +
          `(${GUEST_UUID}); delete it with 'npm run admin -- key delete ${GUEST_UUID}'`,
      );
    }
    return;
  }
  if (!existing || (wellKnown && existing.sealed === undefined && options.masterKey)) {
    const { record } = makeAuthKey(existing?.namespace ?? GUEST_NAMESPACE, {
      apiKey: GUEST_API_KEY,
      masterKey: options.masterKey,
    });
    await store.putAuthKey(
      existing ? { ...record, subject: existing.subject, created: existing.created } : record,
    );
  }
}
