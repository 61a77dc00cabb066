// OpenWhisk's own wording for what goes wrong while running an activation, in one table (`Messages`
// in ErrorResponse.scala; docs/reference/openwhisk-contract.md §6.2, §6.4, §6.5). The invoke core
// puts them in activation responses, the backends in start errors, the log reader in notice lines.
// No Node APIs: any layer may import this module.

/** Replies (and results) larger than this are cut and reported as an application error. */
export const MAX_RESULT_BYTES = 1024 * 1024;

export const WHISK_MESSAGES = {
  timeout: (ms: number) => `The action exceeded its time limits of ${ms} milliseconds.`,
  initTimeout: (ms: number) =>
    `The action exceeded its time limits of ${ms} milliseconds during initialization.`,
  exitedDuringInit: 'The action did not initialize and exited unexpectedly.',
  exitedDuringRun: 'The action did not produce a valid response and exited unexpectedly.',
  memoryExhausted: 'The action exhausted its memory and was aborted.',
  provisionFailed: 'Failed to provision resources to run the action.',
  controllerStopped: (graceMs: number) =>
    `The controller stopped before the activation ended (it waited ${graceMs} milliseconds).`,
  imageNotFound: (image: string) => `Failed to pull container image '${image}'.`,
  // Gust's own (OpenWhisk has no agent between invoker and container): the container's host's agent did not answer.
  hostUnreachable:
    "The action's container host did not answer; the activation may not have run to completion.",
  initFailed: (body: string) => `The action failed during initialization: ${body}`,
  invalidResponse: (body: string) =>
    `The action did not produce a valid JSON or JSON Array response: ${body}`,
  tooLarge: (size: number, truncated: string) =>
    `The action produced a response that exceeded the allowed length: ${size} > ${MAX_RESULT_BYTES} bytes. ` +
    `The truncated response was: ${truncated}`,
  // Notices written into an activation's logs as stderr lines.
  logsTruncated: (limitBytes: number) =>
    `Logs were truncated because the total bytes size exceeds the limit of ${limitBytes} bytes.`,
  logsCollectionIssue: 'There was an issue while collecting your logs. Data might be missing.',
  logsDeveloperError: 'The action did not initialize or run as expected. Log data might be missing.',
} as const;
