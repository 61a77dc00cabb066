// What a failed @kubernetes/client-node call says: its HTTP status (the client's ApiException
// carries it as a numeric `code`), and the name a health() probe gives the API it could not reach.

/** The HTTP status of a failed Kubernetes API call; undefined when the call got no answer. */
export function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** answerOrThrow's name (backends/backend.ts) for a Kubernetes API: `what`, with the status it answered. */
export function kubernetesApiNamed(what: string): (err: unknown) => string {
  return (err) => {
    const status = httpStatus(err);
    return status === undefined ? what : `${what} (${status})`;
  };
}
