import { ControllerMetrics, type ControllerMetricsSources } from '../../api/controller-metrics';
import { ProcessMetrics, type WatchedWorker } from '../../common/metrics';

const sources = (queued: number): ControllerMetricsSources => ({
  router: { stats: () => ({ queued, containers: { stemCell: 0, idle: 1, busy: 2, draining: 0 } }) },
  writer: { stats: () => ({ accepted: 3, written: 3, pending: 0, failedAttempts: 0, deadLettered: 0 }) },
  caches: {
    entities: { stats: () => ({ hits: 5, misses: 1 }) },
    auth: { stats: () => ({ hits: 7, misses: 2 }) },
  },
});

const worker = (taskQueue: string, runState: string): WatchedWorker => ({
  options: { taskQueue },
  getStatus: () => ({
    runState,
    workflowPollerState: 'POLLING',
    activityPollerState: 'POLLING',
    numInFlightActivities: 1,
    numInFlightWorkflowActivations: 0,
    numCachedWorkflows: 4,
  }),
});

describe('process metrics shared by parts of Gust', () => {
  test('a controller restarted in the same process registers its metrics again, reading the new sources', async () => {
    const metrics = new ProcessMetrics();
    const first = new ControllerMetrics(metrics.registry, sources(1));
    const unwatch = metrics.watchWorker('controller', worker('q-old', 'RUNNING'));
    expect((await metrics.scrape()).body).toContain('gust_router_queued_requests 1');

    first.close();
    unwatch();
    new ControllerMetrics(metrics.registry, sources(9));
    metrics.watchWorker('controller', worker('q-new', 'STOPPED'));

    const { body } = await metrics.scrape();
    expect(body).toContain('gust_router_queued_requests 9');
    expect(body).not.toContain('q-old');
    expect(body).toContain('gust_temporal_worker_up{role="controller",task_queue="q-new"} 0');
    expect(body).toContain('gust_temporal_worker_cached_workflows{role="controller",task_queue="q-new"} 4');
  });

  test('a worker whose status cannot be read is left out, the others are reported', async () => {
    const metrics = new ProcessMetrics();
    metrics.watchWorker('agent', {
      options: { taskQueue: 'broken' },
      getStatus: () => {
        throw new Error('not started');
      },
    });
    metrics.watchWorker('provisioner', worker('ok', 'RUNNING'));
    const { body } = await metrics.scrape();
    expect(body).not.toContain('broken');
    expect(body).toContain('gust_temporal_worker_up{role="provisioner",task_queue="ok"} 1');
  });
});
