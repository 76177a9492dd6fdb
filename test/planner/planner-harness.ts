import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import type IORedis from 'ioredis';
import { createPlannerApp, type PlannerAppOptions } from '../../apps/planner/src/planner-app';
import { plannerSettingsFromEnv } from '../../apps/planner/src/planner-settings';
import { redisNamespace, TEST_REDIS_URL } from '../support/redis-namespace';

export const TOKENS = {
  operator: `op-${randomBytes(12).toString('hex')}`,
  viewer: `view-${randomBytes(12).toString('hex')}`,
};

export interface PlannerUnderTest {
  app: INestApplication;
  base: string;
  prefix: string;
  redis: IORedis;
  /** fetch against the planner; `as` picks the token (none: no Authorization header). */
  // Response bodies are whatever JSON the planner sent; the assertions check their shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  call(method: string, path: string, opts?: { as?: keyof typeof TOKENS | 'none' | string; body?: unknown; raw?: string }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** A planner on an ephemeral port with its own Redis prefix; close() deletes every key under it. */
export async function startPlanner(env: Record<string, string> = {}, options: Pick<PlannerAppOptions, 'serverLimits'> = {}): Promise<PlannerUnderTest> {
  const ns = redisNamespace('planner');
  const prefix = ns.prefix;
  const settings = plannerSettingsFromEnv({
    REDIS_URL: TEST_REDIS_URL,
    LUO_FLEET_PREFIX: prefix,
    LUO_FLEET_TOKENS: `alice:operator:${TOKENS.operator},victor:viewer:${TOKENS.viewer}`,
    ...env,
  });
  const app = await createPlannerApp(settings, { ...options, logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const redis = ns.redis;
  return {
    app,
    base,
    prefix,
    redis,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = {};
      const as = opts.as ?? 'operator';
      if (as !== 'none') headers.authorization = `Bearer ${as in TOKENS ? TOKENS[as as keyof typeof TOKENS] : as}`;
      let payload: string | undefined;
      if (opts.raw !== undefined) payload = opts.raw;
      else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(base + path, { method, headers, body: payload });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch {
        // Not JSON (the docs page): keep the text.
      }
      return { status: res.status, body, headers: res.headers };
    },
    async close() {
      await app.close();
      await ns.drop();
    },
  };
}

/** The fields a 400 names, sorted. */
export const issueFields = (body: { issues?: Array<{ field: string }> }) => (body.issues ?? []).map((i) => i.field).sort();

/** Every inventory key and value under the planner's prefix: a refused request must leave it unchanged. */
export async function inventorySnapshot(p: PlannerUnderTest): Promise<string> {
  const keys = (await p.redis.keys(`${p.prefix}:{inventory}:*`)).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const type = await p.redis.type(key);
    parts.push(key, type === 'hash' ? JSON.stringify(await p.redis.hgetall(key)) : JSON.stringify(await p.redis.zrange(key, 0, -1)));
  }
  return parts.join('\n');
}
