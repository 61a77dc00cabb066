// Messages of the Knative service workflow (GUST_BACKEND=knative). Types only and message
// definitions; no Node APIs (workflow code imports this module).
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ActionRef } from '../common/types';
import type { Scope } from './scope';

/** One Knative Service as the workflow applied it. */
export interface AppliedKnativeService {
  name: string;
  generation: number;
  /** The action version the Service's spec carries (the store's, when the action changed meanwhile). */
  version: string;
}

/** A Ready Service: the host the gateway routes by, and the revision that serves. */
export interface ReadyKnativeService {
  host: string;
  url: string;
  revision: string;
}

/** What a controller is told for one action version (api/invoke/knative-invoker.ts KnativeRoute). */
export type KnativeRouteMessage =
  | { ref: ActionRef; host: string; revision: string }
  | { ref: ActionRef; failure: string; developerError: boolean };

export interface KnativeServiceRequest {
  controllerId: string;
  ref: ActionRef;
}

export interface KnativeServiceState {
  /** Controllers that asked for this action: they hear of every rollout and of the deletion. */
  controllers: string[];
  current?: ReadyKnativeService & { version: string };
  /** Requests not answered yet (carried across continue-as-new). */
  pending: KnativeServiceRequest[];
}

/** Which Service: the action's namespace (`guest` or `guest/pkg`) and name, and whose runs it serves. */
export interface KnativeServiceKey {
  namespace: string;
  name: string;
  /** The invoking namespace, when not the action's own (audit L9; ActionRef.invoker). */
  invoker?: string;
}

export interface KnativeServiceInput extends KnativeServiceKey {
  scope: Scope;
  state?: KnativeServiceState;
}

export const knativeServiceRequestedSignal = defineSignal<[KnativeServiceRequest]>('knativeServiceRequested');
export const knativeServiceDeletedSignal = defineSignal<[]>('knativeServiceDeleted');
export const knativeServiceQuery = defineQuery<KnativeServiceState>('knativeService');
