// The hot path of GUST_BACKEND=knative: no router picks containers. Each action version has one
// Knative Service revision, whose host the control path pushes here (`route`) once it is Ready;
// every activation is a POST /run to the Knative gateway with that host in `Host`, and Knative
// routes, queues (containerConcurrency) and scales. The pods initialised themselves from their
// environment (init-on-start), so there is no /init. Before the host is known, requests wait in
// a bounded per-version queue while the action's Knative workflow applies the Service.
//
// The same time limit, error classification and activation record as the other backends; the
// time limit is also the revision's timeoutSeconds, and the call allows `coldStartAllowanceMs`
// more for a revision that scales from zero (Knative's activator holds the request meanwhile).
import type { ActivationLogReader } from '../../backends/backend';
import { serviceName } from '../../backends/knative/service-spec';
import type { Logger } from '../../common/logger';
import { actionPath, actionRefOf, actionVersionKey } from '../../common/names';
import type { Action, ActionRef, ContainerInfo } from '../../common/types';
import { WHISK_MESSAGES } from '../../common/whisk-messages';
import type { GatewayCall, RunPayload, RuntimeCallResult } from '../../runtimes/runtime-client';
import { activationRecord } from './activation-record';
import { runPayload } from './run-payload';
import { classifyRun, developerError, whiskError, type ActivationResponse } from './classify';
import { ContainerSessions } from './container-sessions';
import type { Admission, InvokeRequest, Invoker, Ran } from './invoker';
import { NO_OBSERVER, type InvokeObserver } from './observer';

/** What the Knative workflow pushes to a controller for one action version. */
export type KnativeRoute =
  | { ref: ActionRef; host: string; revision: string }
  | { ref: ActionRef; failure: string; developerError: boolean };

/** The controller side the Knative workflow calls (activity `routeKnativeService`). */
export interface KnativeRoutes {
  route(route: KnativeRoute): void;
  /** The action was deleted: forget every version of it. */
  unroute(namespace: string, name: string): void;
}

export interface KnativeControl {
  /**
   * Asks the Knative workflow of the action's runs by `invokingNamespace` (default: its own; audit
   * L9: another namespace's runs have a Service of their own) to apply this version's Service and
   * route it here.
   */
  requestService(action: Action, invokingNamespace?: string): Promise<void>;
  /**
   * The action was deleted: its workflow deletes every Service of it; the workflows of the other
   * namespaces' runs this controller knows (`invokers`) end too.
   */
  deleteService(namespace: string, name: string, invokers: string[]): Promise<void>;
}

export interface KnativeInvokerDeps {
  runtime: {
    run(
      address: string,
      payload: RunPayload,
      timeoutMs: number,
      options: GatewayCall,
    ): Promise<RuntimeCallResult>;
  };
  /**
   * The secret of a Service's pods (backends/runtime-secret-key.ts), computed once per route;
   * none: calls carry none.
   */
  runtimeSecretOf?: (ref: ActionRef) => string;
  control: KnativeControl;
  log: Logger;
  /** The Knative ingress (gateway) every request goes to, e.g. `http://127.0.0.1:8081`. */
  gateway: string;
  /** How long a request may wait for its Service to become Ready. */
  provisionTimeoutMs: number;
  /** Extra time a /run may take beyond the action's limit while its revision scales from zero. */
  coldStartAllowanceMs: number;
  maxQueuePerAction: number;
  /**
   * The pods Knative made, through the Kubernetes API: a pod's log (activations of
   * concurrency-1 actions, by the pod the runtime names in its reply) and whether a Service's pod
   * was OOM-killed (the gateway answers 502 when a pod dies mid-request). Without it: no logs,
   * and a pod's death reads as an exit.
   */
  pods?: {
    logs(pod: string): ActivationLogReader;
    oomKilled(service: string, sinceMs: number, awaitMs: number): Promise<boolean>;
  };
  /** Counts a pod's first answer as a cold start of kind `new-container`. */
  observe?: InvokeObserver;
  now?: () => number;
}

/** How long an OOM kill may take to show on the pod after the gateway's 502. */
const OOM_AWAIT_MS = 5_000;

interface Waiting {
  resolve: (call: GatewayCall) => void;
  reject: (failure: ActivationResponse) => void;
}

/** A gateway's own answer (not the runtime's JSON): the status and first words of its text. */
function gatewayError(status: number, text: string): string | undefined {
  if (status < 400) return undefined;
  try {
    const body = JSON.parse(text) as unknown;
    if (body !== null && typeof body === 'object') return undefined; // the runtime answered
  } catch {
    // not JSON: the gateway's own page
  }
  return `${status} ${text.trim().slice(0, 200)}`;
}

export class KnativeInvoker implements Invoker, KnativeRoutes {
  readonly #deps: KnativeInvokerDeps;
  readonly #now: () => number;
  readonly #observe: InvokeObserver;
  /** The gateway call (Host and secret) of each routed action version. */
  readonly #routes = new Map<string, GatewayCall>();
  readonly #waiting = new Map<string, Waiting[]>();
  /** Log streams per pod (no /init here: a session is ready as soon as a pod answered). */
  readonly #sessions: ContainerSessions;
  /** The pods that answered, per action (`namespace/name`); their log streams close when the action goes. */
  readonly #podsOf = new Map<string, Set<string>>();
  /** Other namespaces whose runs of an action (`namespace/name`) this controller asked a Service for. */
  readonly #invokersOf = new Map<string, Set<string>>();

  constructor(deps: KnativeInvokerDeps) {
    if (!(deps.provisionTimeoutMs > 0)) throw new Error('provisionTimeoutMs must be > 0');
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#observe = deps.observe ?? NO_OBSERVER;
    const { pods } = deps;
    this.#sessions = new ContainerSessions({
      log: deps.log,
      openLogs: pods && ((container) => pods.logs(container.id)),
    });
  }

  route(route: KnativeRoute): void {
    const key = actionVersionKey(route.ref);
    const waiting = this.#waiting.get(key) ?? [];
    this.#waiting.delete(key);
    if ('host' in route) {
      const call = { host: route.host, secret: this.#deps.runtimeSecretOf?.(route.ref) };
      this.#routes.set(key, call);
      for (const w of waiting) w.resolve(call);
    } else {
      this.#routes.delete(key);
      const message = `${WHISK_MESSAGES.provisionFailed} (${route.failure})`;
      const response = route.developerError ? developerError(message) : whiskError(message);
      for (const w of waiting) w.reject(response);
    }
  }

  unroute(namespace: string, name: string): void {
    const prefix = `${namespace}/${name}@`;
    for (const key of [...this.#routes.keys()]) if (key.startsWith(prefix)) this.#routes.delete(key);
    const action = `${namespace}/${name}`;
    for (const pod of this.#podsOf.get(action) ?? []) this.#sessions.forget(pod);
    this.#podsOf.delete(action);
  }

  /** Closes every log stream (shutdown). */
  close(): void {
    this.#sessions.close();
    this.#podsOf.clear();
  }

  actionDeleted(action: Action): void {
    const invokers = [...(this.#invokersOf.get(actionPath(action)) ?? [])];
    this.#invokersOf.delete(actionPath(action));
    this.unroute(action.namespace, action.name);
    this.#deps.control.deleteService(action.namespace, action.name, invokers).catch((error: unknown) => {
      this.#deps.log.warn({ err: error, action: actionPath(action) }, 'deleting the Knative Service failed');
    });
  }

  /** Requests waiting for this version's Service. */
  queued(ref: ActionRef): number {
    return this.#waiting.get(actionVersionKey(ref))?.length ?? 0;
  }

  invoke(request: InvokeRequest): Admission {
    const received = this.#now();
    const { action } = request;
    // One Service per invoking namespace (audit L9): another namespace's runs never share its pods.
    const ref = actionRefOf(action, request.namespace);
    const key = actionVersionKey(ref);
    const call = this.#routes.get(key);
    if (call !== undefined) return { kind: 'admitted', ran: this.#run(call, ref, request, received) };

    const waiting = this.#waiting.get(key) ?? [];
    if (waiting.length >= this.#deps.maxQueuePerAction) {
      return {
        kind: 'refused',
        reason: 'queue-full',
        queued: waiting.length,
        allowed: this.#deps.maxQueuePerAction,
      };
    }
    const first = waiting.length === 0;
    this.#waiting.set(key, waiting);
    const ready = new Promise<GatewayCall>((resolve, reject) => {
      const entry: Waiting = { resolve, reject };
      waiting.push(entry);
      const timer = setTimeout(() => {
        const index = waiting.indexOf(entry);
        if (index >= 0) waiting.splice(index, 1);
        reject(
          whiskError(
            `${WHISK_MESSAGES.provisionFailed} (the Knative Service was not Ready within ${this.#deps.provisionTimeoutMs} ms)`,
          ),
        );
      }, this.#deps.provisionTimeoutMs);
      const clear = (): void => clearTimeout(timer);
      entry.resolve = (call) => {
        clear();
        resolve(call);
      };
      entry.reject = (r) => {
        clear();
        reject(r);
      };
    });
    if (first) {
      if (ref.invoker !== undefined) {
        const invokers = this.#invokersOf.get(actionPath(action)) ?? new Set<string>();
        this.#invokersOf.set(actionPath(action), invokers.add(ref.invoker));
      }
      this.#deps.control.requestService(action, ref.invoker).catch((error: unknown) => {
        this.#deps.log.warn(
          { err: error, action: actionPath(action) },
          'requesting the Knative Service failed',
        );
        this.route({ ref, failure: (error as Error).message, developerError: false });
      });
    }
    const ran = ready.then(
      (call) => this.#run(call, ref, request, received),
      (response: ActivationResponse): Ran => {
        const now = this.#now();
        const timing = { start: now, end: now, waitTime: now - received, timeout: false };
        return { activation: activationRecord(request, response, timing), logs: Promise.resolve([]) };
      },
    );
    return { kind: 'admitted', ran };
  }

  async #run(call: GatewayCall, ref: ActionRef, request: InvokeRequest, received: number): Promise<Ran> {
    const { action } = request;
    const apiKey = request.apiKey instanceof Promise ? await request.apiKey : request.apiKey;
    const begin = this.#now();
    const timeoutMs = action.limits.timeout;
    const payload = runPayload(request, begin, apiKey);
    const reply = await this.#deps.runtime.run(
      this.#deps.gateway,
      payload,
      timeoutMs + this.#deps.coldStartAllowanceMs,
      call,
    );
    const { response, timedOut } = await this.#interpret(reply, timeoutMs, action, ref, begin);
    const end = this.#now();
    const timing = { start: begin, end, waitTime: begin - received, timeout: timedOut };
    const pod = reply.outcome === 'response' ? reply.pod : undefined;
    return { activation: activationRecord(request, response, timing), logs: this.#logs(action, pod) };
  }

  /**
   * The activation's lines from the pod that answered, read in answer order (a concurrency-1
   * revision gives a pod one request at a time, so its log holds one activation after another).
   * A pod's first answer to this controller counts as a cold start, and opens its log stream,
   * which reads the pod's log from its start.
   */
  #logs(action: Action, pod: string | undefined): Promise<string[]> {
    if (pod === undefined) return noLogs();
    const path = `${action.namespace}/${action.name}`;
    const pods = this.#podsOf.get(path) ?? new Set<string>();
    const collect = action.limits.concurrency === 1 && action.limits.logs > 0;
    if (!pods.has(pod)) {
      this.#podsOf.set(path, pods.add(pod));
      this.#observe.coldStart('new-container');
      if (collect) this.#sessions.initialize(podInfo(pod, action), true, () => Promise.resolve({ ok: true }));
    }
    return collect ? this.#sessions.collectLogs(pod, action.limits.logs, false) : noLogs();
  }

  async #interpret(
    reply: RuntimeCallResult,
    timeoutMs: number,
    action: Action,
    ref: ActionRef,
    begin: number,
  ): Promise<{ response: ActivationResponse; timedOut: boolean }> {
    switch (reply.outcome) {
      case 'timeout':
        return { response: developerError(WHISK_MESSAGES.timeout(timeoutMs)), timedOut: true };
      case 'connection-error':
        this.#deps.log.warn(
          { code: reply.code, gateway: this.#deps.gateway },
          'the Knative gateway did not answer',
        );
        return {
          response: whiskError(
            `${WHISK_MESSAGES.provisionFailed} (the Knative gateway did not answer: ${reply.code})`,
          ),
          timedOut: false,
        };
      case 'response': {
        const gateway = gatewayError(reply.status, reply.text);
        if (gateway === undefined)
          return { response: classifyRun(reply.status, reply.text, reply.size), timedOut: false };
        // Knative's queue-proxy ends a request past the revision's timeoutSeconds with 504.
        if (reply.status === 504)
          return { response: developerError(WHISK_MESSAGES.timeout(timeoutMs)), timedOut: true };
        if (reply.status === 502) {
          // The pod's connection broke mid-request: the kernel's OOM kill, or the action ended its process.
          const service = serviceName(ref.namespace, ref.name, ref.invoker);
          const oom = await this.#deps.pods?.oomKilled(service, begin, OOM_AWAIT_MS).catch(() => false);
          const message = oom ? WHISK_MESSAGES.memoryExhausted : WHISK_MESSAGES.exitedDuringRun;
          return { response: developerError(message), timedOut: false };
        }
        if (reply.status === 404) this.unroute(action.namespace, action.name); // the Service is gone: ask again next time
        return {
          response: whiskError(`${WHISK_MESSAGES.provisionFailed} (Knative answered ${gateway})`),
          timedOut: false,
        };
      }
    }
  }
}

const noLogs = (): Promise<string[]> => Promise.resolve([]);

/** A pod as the log sessions see it (only its name is read). */
function podInfo(pod: string, action: Action): ContainerInfo {
  return {
    id: pod,
    name: pod,
    host: 'knative',
    backend: 'knative',
    address: '',
    kind: action.exec.kind,
    memoryMB: action.limits.memory,
    labels: {},
    createdAt: 0,
  };
}
