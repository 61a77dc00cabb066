// One line of a container's output, before it is framed into activations.
export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  stream: LogStream;
  /** RFC 3339 with nanoseconds, as docker writes it: `2016-02-11T16:46:56.842065025Z`. */
  time: string;
  /** Without the trailing newline. */
  text: string;
}

/** The time of a line read from a pipe: milliseconds padded to docker's 30-character nanosecond form. */
export function nowTimestamp(): string {
  return new Date().toISOString().replace('Z', '000000Z');
}
