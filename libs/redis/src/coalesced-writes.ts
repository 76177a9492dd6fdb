import type IORedis from 'ioredis';
import type { Socket } from 'node:net';
import { isRedisCluster, type RedisClient } from './redis-connection';

const COALESCED = Symbol('luo-fleet.coalescedWrites');
type CoalescedSocket = Socket & { [COALESCED]?: true };

/**
 * Sends the commands a process issues in one turn of its event loop in one socket write. A worker
 * drives a hundred handovers on one connection, and an answer from Redis wakes many of them at
 * once, each sending its next command: written one by one, every command costs a system call here
 * and a read in Redis.
 *
 * Why not ioredis's `enableAutoPipelining`: it keeps one pipeline in flight per connection, so a
 * command issued while one is out waits for that whole pipeline's answers; with a hundred hosts
 * stepping together that wait lengthens every handover. Here
 * the socket is only corked until the current turn's callbacks have run (`process.nextTick`),
 * and answers come back one by one as before.
 *
 * Applied to each connection's socket on every (re)connect; on a cluster, to each node's.
 */
export function coalesceWrites<T extends RedisClient>(redis: T): T {
  if (isRedisCluster(redis)) {
    redis.on('+node', (node: IORedis) => coalesceWrites(node));
    for (const node of redis.nodes()) coalesceWrites(node);
    return redis;
  }
  const single = redis as IORedis;
  const patch = () => corkPerTurn(single.stream as CoalescedSocket | undefined);
  single.on('connect', patch);
  patch();
  return redis;
}

function corkPerTurn(socket: CoalescedSocket | undefined): void {
  if (!socket || socket[COALESCED]) return;
  socket[COALESCED] = true;
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}
