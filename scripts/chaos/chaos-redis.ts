import { connect } from 'node:net';
import type { ChaosProcesses } from './chaos-processes';
import { sleep } from './seeded';

export const REDIS = 'redis-server';

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    // While loading the AOF Redis answers -LOADING: not ready yet.
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/**
 * The run's own redis-server, persistent (AOF, fsync every second) in the run's temp dir, so that a
 * restart keeps what it acknowledged: SIGTERM makes it fsync the AOF before it exits.
 */
export class ChaosRedis {
  down = false;

  constructor(
    private readonly processes: ChaosProcesses,
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.processes.start(REDIS, 'redis-server', [
      '--bind', '127.0.0.1', '--port', String(this.port), '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--protected-mode', 'yes',
    ], {});
    const deadline = Date.now() + 30_000;
    while (!(await answersPing(this.port))) {
      if (!this.processes.alive(REDIS)) throw new Error(`redis-server exited at start:\n${this.processes.tail(REDIS)}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING within 30 s`);
      await sleep(50);
    }
    this.down = false;
  }

  /** SIGTERM, wait for the exit, stay down `downMs`, start again on the same port and dir. */
  async restart(downMs: number): Promise<number> {
    const t0 = Date.now();
    this.down = true;
    await this.processes.stop(REDIS, 'SIGTERM');
    await sleep(downMs);
    await this.start();
    return Date.now() - t0;
  }
}
