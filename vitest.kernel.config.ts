import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config';

/**
 * `npm run test:kernel`: the tier that boots the LUO test kernel under QEMU. One file at a time and
 * one guest at a time (each QEMU takes a core); the kernel is built, or found in its cache, first.
 */
// The unit and integration projects of the default config would take over `include`: left out.
const { projects: _projects, ...shared } = base.test ?? {};

export default defineConfig({
  ...base,
  test: {
    ...shared,
    include: ['test/kernel/**/*.spec.ts'],
    exclude: [...configDefaults.exclude],
    globalSetup: ['test/kernel/support/global-setup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    minWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
