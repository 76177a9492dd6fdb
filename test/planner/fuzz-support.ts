import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import fc from 'fast-check';
import { startPrivateRedisServer } from '@luo-fleet/redis';

/**
 * A redis-server of the fuzz test's own (no persistence, temp dir): a snapshot of every key is a
 * few round trips, which on the shared test Redis would be a scan of everyone's keys.
 */
export async function privateRedis(): Promise<{ url: string; redis: IORedis; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'luo-fuzz-redis-'));
  const server = await startPrivateRedisServer(dir);
  const redis = new IORedis(server.url, { maxRetriesPerRequest: 1 });
  return {
    url: server.url,
    redis,
    async stop() {
      redis.disconnect();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every key and its serialized value, but `ignore` (the audit stream records refused calls by design). */
export async function redisSnapshot(redis: IORedis, ignore: (key: string) => boolean): Promise<string> {
  const keys = (await redis.keys('*')).filter((k) => !ignore(k)).sort();
  if (keys.length === 0) return '';
  const p = redis.pipeline();
  for (const k of keys) p.dumpBuffer(k);
  const dumps = (await p.exec()) ?? [];
  return keys.map((k, i) => `${k}=${(dumps[i][1] as Buffer | null)?.toString('base64') ?? 'gone'}`).join('\n');
}

/** Every file under `dir` and its bytes. */
export function dirSnapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(`${p}=${readFileSync(p).toString('base64')}`);
    }
  };
  walk(dir);
  return out.join('\n');
}

// ---- malformed bodies: mutations of a valid one --------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Paths of every value in a JSON document (root excluded). */
export function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  return [];
}

function edit(value: Json, path: Path, fn: (parent: Json[] | Record<string, Json>, key: string | number) => void): Json {
  const copy = structuredClone(value);
  let node: Json = copy;
  for (const key of path.slice(0, -1)) node = (node as Record<string, Json>)[key as string];
  fn(node as Record<string, Json>, path[path.length - 1]);
  return copy;
}

const BAD_BDFS = ['0000:zz:00.0', '0000:00:00.8', '00:1f.0', '10000:00:00.0x', '', '0000:00:20.0', 'ÿ', '0000:00:00.0\n', ' 0000:00:00.0', '0'.repeat(300)];
const HUGE = [1e308, -1e308, 2 ** 53 + 2, -1, 0, 1.5, 4294967296, -0.0001, Number.MAX_SAFE_INTEGER];

/** Nested garbage up to ~8 levels: objects, arrays, strings, numbers. */
const deepGarbage: fc.Arbitrary<Json> = fc.letrec<{ node: Json }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Json>(null, true, 0, -1, 1e308, '', 'x'),
    fc.string({ maxLength: 20 }),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('devices', 'bdf', 'iommuGroups', 'id', 'x', '__proto__', 'constructor'), tie('node'), { maxKeys: 4 }),
  ),
})).node;

/** Strings the planner once took and should not: keys that meet Object.prototype, agent addresses that are more than an address, kernels an agent refuses. */
const SLIPPERY = ['__proto__', 'constructor', 'toString', '-.x', '.hidden', 'http://127.0.0.1:1/?', 'http://127.0.0.1:1/v1/x', 'http://u:p@127.0.0.1:1', 'http://127.0.0.1:1#f', 'file:///etc/passwd'];

/** A value of a wrong type or range for whatever field it replaces. */
const wrongValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(...HUGE, null, true, false, '', [], {}, '🙂'.repeat(50), 'a'.repeat(5000)),
  fc.constantFrom<Json>(...SLIPPERY),
  fc.constantFrom<Json>(...BAD_BDFS),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  deepGarbage,
);

/** A request body sent as JSON, or raw text that is not (valid) JSON. */
export type Mutated = { json: unknown } | { raw: string };

/** Mutations of `valid`: a field deleted, replaced by a wrong value, an unknown field, a wrong root, or broken JSON text. */
export function malformed(input: unknown): fc.Arbitrary<Mutated> {
  const valid = input as Json;
  const paths = pathsOf(valid);
  const path = fc.constantFrom(...paths);
  const text = JSON.stringify(valid);
  return fc.oneof(
    path.map((p) => ({ json: edit(valid, p, (parent, key) => (Array.isArray(parent) ? parent.splice(key as number, 1) : delete parent[key as string])) })),
    fc.tuple(path, wrongValue).map(([p, v]) => ({ json: edit(valid, p, (parent, key) => ((parent as Record<string, Json>)[key as string] = v)) })),
    fc.tuple(fc.constantFrom(...paths.filter((p) => typeof p[p.length - 1] === 'string'), [] as Path), fc.string({ minLength: 1, maxLength: 12 }), wrongValue).map(([p, k, v]) => {
      // An unknown key next to a known one (or at the root).
      const parentPath = p.slice(0, -1);
      const json = structuredClone(valid);
      let node: Json = json;
      for (const key of parentPath) node = (node as Record<string, Json>)[key as string];
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) (node as Record<string, Json>)[`zz${k}`] = v;
      return { json };
    }),
    // A key JSON keeps as an own property but a plain object assignment would not: `__proto__` or `constructor`, anywhere.
    fc.tuple(fc.constantFrom(...paths.filter((p) => typeof p[p.length - 1] === 'string'), [] as Path), fc.constantFrom('__proto__', 'constructor'), wrongValue).map(([p, k, v]) => {
      const json = structuredClone(valid);
      let node: Json = json;
      for (const key of p.slice(0, -1)) node = (node as Record<string, Json>)[key as string];
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) Object.defineProperty(node, k, { value: v, enumerable: true, configurable: true, writable: true });
      return { json };
    }),
    fc.constantFrom<Json>(null, [], 'text', 42, [valid]).map((json) => ({ json })),
    deepGarbage.map((json) => ({ json })),
    fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => ({ raw: text.slice(0, n) })),
    fc.tuple(fc.nat({ max: text.length }), fc.constantFrom('{', '}', ',', '"', ':', '\\', '\u0000', 'NaN', 'undefined', "'")).map(([n, c]) => ({ raw: text.slice(0, n) + c + text.slice(n) })),
  );
}

export function bodyText(m: Mutated): string {
  return 'raw' in m ? m.raw : JSON.stringify(m.json);
}
