// How container failures are told apart and worded, as OpenWhisk's invoker words them
// (docs/reference/openwhisk-contract.md §6.1, §6.2, §6.4; Container.scala error hierarchy, Messages
// in ErrorResponse.scala).
import { WHISK_MESSAGES } from '../common/whisk-messages';
import type { ContainerState } from './backend';

/** The texts of common/whisk-messages.ts that container failures use. */
export const CONTAINER_MESSAGES = {
  memoryExhausted: WHISK_MESSAGES.memoryExhausted,
  exitedDuringInit: WHISK_MESSAGES.exitedDuringInit,
  exitedDuringRun: WHISK_MESSAGES.exitedDuringRun,
  provisionFailed: WHISK_MESSAGES.provisionFailed,
  imageNotFound: WHISK_MESSAGES.imageNotFound,
  hostUnreachable: WHISK_MESSAGES.hostUnreachable,
} as const;

/**
 * A container could not be started. `developerError` marks faults of the user's image (missing
 * image, no executable: OpenWhisk's BlackboxStartupError); otherwise it is a platform fault
 * (WhiskContainerStartupError). Checked by `code`, never by instanceof (see style convention 5).
 */
export class ContainerStartError extends Error {
  readonly code: 'GUST_ERR_BACKEND_IMAGE_NOT_FOUND' | 'GUST_ERR_BACKEND_START_FAILED';
  readonly developerError: boolean;
  readonly containerName: string;

  constructor(options: {
    code: ContainerStartError['code'];
    message: string;
    developerError: boolean;
    containerName: string;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.name = 'ContainerStartError';
    this.code = options.code;
    this.developerError = options.developerError;
    this.containerName = options.containerName;
  }
}

/** Any other failure to bring a container up: a platform fault with OpenWhisk's provisioning message. */
export function provisionFailure(containerName: string, error: unknown): ContainerStartError {
  return new ContainerStartError({
    code: 'GUST_ERR_BACKEND_START_FAILED',
    message: `${CONTAINER_MESSAGES.provisionFailed} (${(error as Error)?.message ?? String(error)})`,
    developerError: false,
    containerName,
    cause: error,
  });
}

/**
 * The developer-error text for a container that stopped answering (connection error on /init or
 * /run): OOM wins when the engine says so. `state` is `backend.state(id)` after the failure.
 */
export function describeContainerDeath(state: ContainerState | null, phase: 'init' | 'run'): string {
  if (state?.oomKilled) return CONTAINER_MESSAGES.memoryExhausted;
  return phase === 'init' ? CONTAINER_MESSAGES.exitedDuringInit : CONTAINER_MESSAGES.exitedDuringRun;
}

/**
 * The agent of a container's host did not answer (stopped, or its machine unreachable): the
 * platform failed, not the action (a whisk internal error).
 */
export const HOST_UNREACHABLE = 'GUST_ERR_HOST_UNREACHABLE';

export class HostUnreachableError extends Error {
  readonly code = HOST_UNREACHABLE;

  constructor(hostId: string, agentUrl: string, cause: unknown) {
    super(
      `${CONTAINER_MESSAGES.hostUnreachable} (host ${hostId}, agent ${agentUrl}: ${(cause as Error)?.message ?? String(cause)})`,
      { cause },
    );
    this.name = 'HostUnreachableError';
  }
}
