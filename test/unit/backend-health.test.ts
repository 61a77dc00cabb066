// A backend's health(): the engine's failure, named and kept as the cause (backends/backend.ts).
import { answerOrThrow } from '../../backends/backend';
import { kubernetesApiNamed } from '../../backends/kubernetes/api-errors';

describe('answerOrThrow', () => {
  test('an engine that answers is healthy', async () => {
    await expect(answerOrThrow('the docker engine', async () => 'pong')).resolves.toBeUndefined();
  });

  test('an engine that fails is named, with why, and the failure kept as the cause', async () => {
    const refused = new Error('connect ECONNREFUSED /run/docker.sock');
    const failure = await answerOrThrow('the docker engine', () => Promise.reject(refused)).catch((e) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe(
      'the docker engine does not answer: connect ECONNREFUSED /run/docker.sock',
    );
    expect((failure as Error).cause).toBe(refused);
  });

  test('the name may depend on the failure', async () => {
    const failure = Object.assign(new Error('Service Unavailable'), { status: 503 });
    await expect(
      answerOrThrow(
        (err) => `the Mesos master (${(err as { status: number }).status})`,
        () => Promise.reject(failure),
      ),
    ).rejects.toThrow('the Mesos master (503) does not answer: Service Unavailable');
  });

  test.each([
    [
      'a status it answered',
      Object.assign(new Error('Forbidden'), { code: 403 }),
      'the Kubernetes API (403) does not answer: Forbidden',
    ],
    [
      'no answer at all',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'the Kubernetes API does not answer: connect ECONNREFUSED',
    ],
  ])('a Kubernetes API is named with %s', async (_, failure, message) => {
    await expect(
      answerOrThrow(kubernetesApiNamed('the Kubernetes API'), () => Promise.reject(failure)),
    ).rejects.toThrow(message);
  });
});
