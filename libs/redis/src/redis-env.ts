import { z } from 'zod';
import { DEFAULT_REDIS_URL, parseClusterNodes, type RedisSettings } from './redis-connection';

/**
 * The Redis variables every luo-fleet process reads. Each app extends this schema with its own
 * variables, so a wrong one is refused at start with the rest, by name, before anything connects.
 */
export const redisEnvSchema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default(DEFAULT_REDIS_URL),
  /** `host:port,host:port,...`: a Redis Cluster instead of REDIS_URL (whose credentials still apply). */
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .superRefine((text, ctx) => {
      if (text === undefined || text.trim() === '') return;
      try {
        parseClusterNodes(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^REDIS_CLUSTER_NODES: /, '') });
      }
    }),
  /** Every key luo-fleet writes starts with it, BullMQ's included. */
  LUO_FLEET_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.{}-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . - { }')
    .default('luo'),
});
export type RedisEnv = z.output<typeof redisEnvSchema>;

/** The settings of a checked environment; REDIS_CLUSTER_NODES set but blank means one server. */
export function redisSettingsOf(env: RedisEnv): RedisSettings {
  const nodes = env.REDIS_CLUSTER_NODES;
  return {
    url: env.REDIS_URL,
    prefix: env.LUO_FLEET_PREFIX,
    ...(nodes !== undefined && nodes.trim() !== '' ? { clusterNodes: parseClusterNodes(nodes) } : {}),
  };
}

/**
 * One line naming every wrong variable, as `VAR: problem; VAR: problem`: what an app prints, and
 * all it prints, when it refuses to start.
 */
export function envProblems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(environment)'}: ${i.message}`).join('; ');
}
