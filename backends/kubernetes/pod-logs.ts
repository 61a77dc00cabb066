// Follows one pod's log through the apiserver (`pods/log?follow&timestamps`) into an
// ActivationLogReader with the same sentinel framing as docker. The log API merges stdout and
// stderr into one stream, each line `<RFC3339Nano> <text>`, and the runtime ends every activation
// with a sentinel on each stream: so within an activation, lines up to the first sentinel are
// given as stdout and lines up to the second as stderr (OpenWhisk's Kubernetes factory calls
// every line stdout and waits for two sentinels: the same framing). The kubelet reads the two
// pipes apart, so when a run starts before the last one's stderr reached the log, the new run's
// first stdout lines can come before it and are then counted as the last activation's stderr
// (seen in CI, 2026-12-02): the merged stream cannot tell them apart.
import { Writable } from 'node:stream';
import { Log, type KubeConfig } from '@kubernetes/client-node';
import type { ActivationLogReader } from '../backend';
import { ACTIVATION_LOG_SENTINEL } from '../logs/activation-log-collector';
import { QueuedActivationLogReader } from '../logs/activation-log-reader';
import { splitDockerTimestamp } from '../logs/line-assembler';
import type { LogStream } from '../logs/log-line';

/** Opening the log is retried this often while the container has not started (about 10 s). */
const OPEN_ATTEMPTS = 100;
const OPEN_RETRY_MS = 100;

/** Labels merged lines stdout, then stderr after the activation's first sentinel. */
export class MergedStreamLabeller {
  #sentinels = 0;

  label(text: string): LogStream {
    const stream: LogStream = this.#sentinels === 0 ? 'stdout' : 'stderr';
    if (text.endsWith(ACTIVATION_LOG_SENTINEL)) this.#sentinels = (this.#sentinels + 1) % 2;
    return stream;
  }
}

export function followPodLogs(
  config: KubeConfig,
  namespace: string,
  pod: string,
  container: string,
): ActivationLogReader {
  let request: AbortController | undefined;
  let closed = false;
  const reader = new QueuedActivationLogReader({
    onClose: () => {
      closed = true;
      request?.abort();
    },
  });
  const labeller = new MergedStreamLabeller();
  const onLine = (raw: string): void => {
    const { time, text } = splitDockerTimestamp(raw);
    reader.push({ stream: labeller.label(text), time, text });
  };
  let pending = '';
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (pending !== '') onLine(pending);
    pending = '';
    reader.end();
  };
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending += chunk.toString('utf8');
      for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
        onLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
      callback();
    },
    final(callback) {
      finish();
      callback();
    },
  });
  sink.on('error', finish);
  sink.on('close', finish);
  const open = (attempt: number): void => {
    new Log(config).log(namespace, pod, container, sink, { follow: true, timestamps: true }).then(
      (controller) => {
        request = controller;
        if (closed) controller.abort();
      },
      (err: unknown) => {
        // 400: the container has not started yet as far as the kubelet has reported (a pod is
        // handed out once its runtime answers, which can be a relist before that). The log is
        // read from the container's start, so opening later loses nothing.
        const waiting = (err as { code?: unknown } | null)?.code === 400;
        if (waiting && !closed && attempt < OPEN_ATTEMPTS) setTimeout(() => open(attempt + 1), OPEN_RETRY_MS);
        // The pod is gone or never started: no more lines will come.
        else finish();
      },
    );
  };
  open(1);
  return reader;
}
