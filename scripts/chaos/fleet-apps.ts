import { randomBytes } from 'node:crypto';
import type { ChaosProcesses } from './chaos-processes';
import type { ChaosRedis } from './chaos-redis';
import { PlannerApi, waitHealthy } from './planner-api';

export const PLANNER = 'planner';
export const METRICS = 'metrics';

export interface AppPorts {
  planner: number;
  metrics: number;
}

/**
 * The luo-fleet apps of the run, as separate processes sharing the run's Redis. Workers get fresh
 * names when replaced (worker-1, worker-2, ...); the one that last logged "driving rollout" holds
 * the coordinator job.
 */
export class FleetApps {
  readonly token = randomBytes(24).toString('hex');
  readonly api: PlannerApi;
  private workerSerial = 0;
  private readonly workers = new Set<string>();
  /** The worker that last started driving the rollout's coordinator job. */
  coordinatorHolder: string | undefined;

  constructor(
    private readonly processes: ChaosProcesses,
    private readonly redis: ChaosRedis,
    private readonly prefix: string,
    readonly ports: AppPorts,
    private readonly workerEnv: Record<string, string>,
  ) {
    this.api = new PlannerApi(`http://127.0.0.1:${ports.planner}`, this.token);
  }

  private get shared() {
    return { REDIS_URL: this.redis.url, LUO_FLEET_PREFIX: this.prefix, LOG_LEVEL: 'info' };
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.ports.metrics}`;
  }

  async startPlanner(): Promise<void> {
    this.processes.startApp(PLANNER, 'planner', {
      ...this.shared,
      LOG_LEVEL: 'warn',
      PLANNER_HOST: '127.0.0.1',
      PLANNER_PORT: String(this.ports.planner),
      LUO_FLEET_TOKENS: `chaos:operator:${this.token}`,
    });
    await waitHealthy(`${this.api.baseUrl}/health`, 60_000);
  }

  async startMetrics(): Promise<void> {
    this.processes.startApp(METRICS, 'metrics', { ...this.shared, METRICS_HOST: '127.0.0.1', METRICS_PORT: String(this.ports.metrics) });
    await waitHealthy(`${this.metricsUrl}/health`, 60_000);
  }

  startWorker(): string {
    const name = `worker-${++this.workerSerial}`;
    this.workers.add(name);
    this.processes.startApp(name, 'worker', { ...this.shared, ...this.workerEnv }, (line) => {
      if (line.includes('driving rollout')) this.coordinatorHolder = name;
    });
    return name;
  }

  liveWorkers(): string[] {
    return [...this.workers].filter((w) => this.processes.alive(w));
  }

  async killWorker(name: string): Promise<void> {
    await this.processes.stop(name, 'SIGKILL');
    this.workers.delete(name);
    if (this.coordinatorHolder === name) this.coordinatorHolder = undefined;
  }

  async restartPlanner(): Promise<void> {
    await this.processes.stop(PLANNER, 'SIGKILL');
    await this.startPlanner();
  }

  /** Apps first, then Redis, so nothing logs a lost connection on the way out. */
  stopOrder(names: string[]): string[][] {
    return [names.filter((n) => n !== 'redis-server'), names.filter((n) => n === 'redis-server')];
  }
}
