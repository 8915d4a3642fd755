import { defineConfig } from 'vitest/config'

/**
 * The test projects. Pass this file with `--config` (vitest ignores a workspace file otherwise);
 * `vitest.config.ts` re-exports it so a bare `vitest` finds it too.
 */
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    globalSetup: ['./test/global-setup.ts'],
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['client/src/**/*.test.ts', 'shared/src/**/*.test.ts', 'proxy/src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'integration-tcp',
          include: ['client/test/**/*.test.ts'],
          environment: 'node',
          provide: { transport: 'tcp' },
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration-ws',
          include: ['client/test/**/*.test.ts'],
          environment: 'node',
          provide: { transport: 'websocket' },
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'relay',
          include: ['proxy/test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
})
