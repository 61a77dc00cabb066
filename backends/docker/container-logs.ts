// Follows one container's docker log stream into an ActivationLogReader: demultiplex the frames,
// split off docker's timestamps, reassemble lines, and let the reader frame activations.
import type { ActivationLogReader } from '../backend';
import { QueuedActivationLogReader } from '../logs/activation-log-reader';
import { DockerFrameDemuxer } from '../logs/docker-frame-demuxer';
import { LineAssembler, splitDockerTimestamp } from '../logs/line-assembler';

/**
 * `open` opens the raw (multiplexed, timestamped) stream of `GET /containers/{id}/logs?follow`:
 * from the engine (DockerApi.followLogs) or from the container's agent (agent-endpoint.ts).
 */
export function followContainerLogs(
  open: (signal: AbortSignal) => Promise<AsyncIterable<Buffer>>,
): ActivationLogReader {
  const abort = new AbortController();
  const reader = new QueuedActivationLogReader({ onClose: () => abort.abort() });
  const demuxer = new DockerFrameDemuxer();
  const assembler = new LineAssembler();
  const push = reader.push.bind(reader);

  const pump = async (): Promise<void> => {
    const stream = await open(abort.signal);
    for await (const chunk of stream) {
      demuxer.push(chunk, (streamName, payload) => {
        const { time, text } = splitDockerTimestamp(payload.toString('utf8'));
        assembler.push(streamName, text, time, push);
      });
    }
  };
  // Should not reject: a stream that fails or ends (container removed) just ends the reader.
  pump()
    .catch(() => undefined)
    .finally(() => {
      assembler.flush(push);
      reader.end();
    });
  return reader;
}
