// What the REST plugins share, built once in buildApp and passed to each as its options.
import type { GustConfig } from '../common/config';
import type { ActivationStore } from '../store/activation-store';
import type { ActivationWriter } from './activation-writer';
import type { Authenticator } from './authenticator';
import type { ActivationStarter } from './compositions/activation-starter';
import type { TriggerFiring } from './compositions/trigger-fire';
import type { EntityCache } from './entity-cache';
import type { Invocations } from './invocations';
import type { NamespaceThrottles } from './namespace-throttles';

export interface ApiContext {
  config: GustConfig;
  entities: EntityCache;
  activations: ActivationStore;
  writer: ActivationWriter;
  invocations: Invocations;
  /** Primitives, sequences and compositions: what routes start activations through. */
  starter: ActivationStarter;
  throttles: NamespaceThrottles;
  /** `firesPerMinute`, counted apart from invokes. */
  fireThrottles: NamespaceThrottles;
  firing: TriggerFiring;
  auth: Authenticator;
}
