import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    files: ['libs/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/apps/**'], message: 'libs/ never import from apps/' }] }],
    },
  },
  {
    // Pure domain libs: no Nest, BullMQ or Redis (design section 3).
    files: ['libs/topology/**', 'libs/preservation/**', 'libs/rollout/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@nestjs/*', 'bullmq', 'ioredis', '**/apps/**'], message: 'pure libs stay framework-free' }] }],
    },
  },
);
