import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

const lib = (name: string) => resolve(__dirname, `libs/${name}/src`);

/** Specs that talk to Redis: everything under test/ and, beside the code, `*.redis.spec.ts`. */
const NEEDS_REDIS = ['libs/**/*.redis.spec.ts', 'apps/**/*.redis.spec.ts', 'test/**/*.spec.ts'];

export default defineConfig({
  // SWC, not esbuild: Nest's dependency injection needs emitted decorator metadata.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: {
      '@luo-fleet/topology': lib('topology'),
      '@luo-fleet/preservation': lib('preservation'),
      '@luo-fleet/handover': lib('handover'),
      '@luo-fleet/rollout': lib('rollout'),
      '@luo-fleet/redis': lib('redis'),
      '@luo-fleet/store': lib('store'),
      '@luo-fleet/jobs': lib('jobs'),
      '@luo-fleet/simulated-host': lib('simulated-host'),
      '@luo-fleet/telemetry': lib('telemetry'),
    },
  },
  test: {
    // Fixture hosts are sysfs trees full of symlink cycles (as real /sys is): never crawl them.
    // test/kernel boots QEMU guests: its own tier, `npm run test:kernel` (vitest.kernel.config.ts).
    exclude: [...configDefaults.exclude, 'test/fixtures/**', 'test/kernel/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // e2e suites spawn real processes against one Redis: keep files from starving each other on 2 cores.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        // The specs beside the code: no Redis, no other process, no build (`npm run test:unit`).
        extends: true,
        test: {
          name: 'unit',
          include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts'],
          // Added to the exclusions above (a project's arrays extend the root's).
          exclude: NEEDS_REDIS,
        },
      },
      {
        // Redis (a private one when none answers on REDIS_URL), real processes from dist/, Prometheus.
        extends: true,
        test: {
          name: 'integration',
          include: NEEDS_REDIS,
          globalSetup: ['test/support/test-redis.ts'],
        },
      },
    ],
  },
});
