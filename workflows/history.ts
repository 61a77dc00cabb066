// When an entity workflow continues as new. No Node APIs.
import { workflowInfo } from '@temporalio/workflow';

/**
 * Well before the server's 4096-event suggestion: update latency grows with history
 * (docs/reference/temporal.md §3.6).
 */
export const MAX_HISTORY_EVENTS = 2000;

export const shouldContinueAsNew = (): boolean =>
  workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;
