import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The libs stack (design section 3): each lib may import only the libs listed for it, so no import
 * runs back up the stack. The first four are pure: no Nest, BullMQ or Redis.
 */
const LIB_ARROWS = {
  topology: [],
  preservation: ['topology'],
  rollout: ['topology', 'preservation', 'handover'],
  handover: ['topology', 'preservation'],
  telemetry: [],
  redis: [],
  store: ['topology', 'preservation', 'handover', 'rollout', 'telemetry', 'redis'],
  jobs: ['handover'],
  'simulated-host': ['topology', 'preservation', 'handover', 'redis'],
};
const PURE_LIBS = ['topology', 'preservation', 'rollout', 'handover'];
const FRAMEWORKS = ['@nestjs/*', 'bullmq', 'ioredis'];

const libRules = Object.entries(LIB_ARROWS).map(([lib, allowed]) => {
  const forbiddenLibs = Object.keys(LIB_ARROWS).filter((other) => other !== lib && !allowed.includes(other));
  const group = [...new Set([
    '**/apps/**',
    ...forbiddenLibs.flatMap((other) => [`@luo-fleet/${other}`, `**/libs/${other}/**`]),
    ...(PURE_LIBS.includes(lib) ? FRAMEWORKS : []),
    ...(lib === 'jobs' || PURE_LIBS.includes(lib) ? [] : ['bullmq', '@nestjs/bullmq']),
  ])];
  return {
    files: [`libs/${lib}/**`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group, message: `libs/${lib} may import only ${allowed.join(', ') || 'no other lib'} (design section 3); only libs/jobs uses BullMQ; pure libs stay framework-free` }] },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Type information from tsconfig.json, which also tells the rules about emitDecoratorMetadata:
    // consistent-type-imports then leaves files with decorators alone, because the metadata Nest's
    // dependency injection reads needs the constructor parameters' classes as value imports.
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  // Plain JavaScript (the CLI's bin shim) is in no tsconfig: no type information for it.
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  ...libRules,
  {
    // BullMQ is libs/jobs' business; the worker's processors and module are its Nest shell.
    files: ['apps/**', 'test/**', 'scripts/**'],
    ignores: ['apps/worker/src/**/*.processor.ts', 'apps/worker/src/worker.module.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['bullmq', '@nestjs/bullmq'].map((name) => ({ name, message: 'reach the queues through @luo-fleet/jobs (its ports, QueueCounter, EmptyJobs)' })) },
      ],
    },
  },
);
