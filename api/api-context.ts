// What the REST plugins share, built once in buildApp and passed to each as its options.
import type { GustConfig } from '../common/config';
import type { ActivationStore } from '../store/activation-store';
import type { ActivationWriter } from './activation-writer';
import type { Authenticator } from './authenticator';
import type { AlarmFeeds } from './catalog/alarm-feeds';
import type { CompositionStarter } from './compositions/composition-starter';
import type { TriggerFiring } from './compositions/trigger-fire';
import type { EntityCache } from './entity-cache';
import type { ActivationStarter } from './invoke/activation-starter';
import type { Invoker } from './invoke/invoker';
import type { NamespaceThrottles } from './namespace-throttles';

export interface ApiContext {
  config: GustConfig;
  entities: EntityCache;
  activations: ActivationStore;
  writer: ActivationWriter;
  /** Starts activations (the invoke route, and compositions: sequences, triggers, …). */
  starter: ActivationStarter;
  /** Any kind of action: primitives through `starter`, sequences and conductor compositions. */
  compositions: CompositionStarter;
  throttles: NamespaceThrottles;
  /** `firesPerMinute`, counted apart from invokes. */
  fireThrottles: NamespaceThrottles;
  firing: TriggerFiring;
  /** The native alarms feed; absent without Temporal (unit tests). */
  alarms?: AlarmFeeds;
  auth: Authenticator;
  /** The invoker behind `starter` (told of deleted actions: Invoker.actionDeleted). */
  invoker: Invoker;
}
