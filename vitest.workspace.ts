import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import { BROWSER_HOST, freeBrowserPort } from './client/test/browser/port.ts'
import { chromiumLaunchOptions } from './test/chromium.ts'

// The browser project's page origin, fixed up front so its relay can allow exactly that Origin.
const browserPort = await freeBrowserPort()

/**
 * The test projects. Pass this file with `--config` (vitest ignores a workspace file otherwise);
 * `vitest.config.ts` re-exports it so a bare `vitest` finds it too.
 */
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  // The global setups (test/global-setup.ts, the browser's relay-setup.ts) load in vitest's own environment,
  // which does not take `resolve.conditions`: without this they import @edgepg/proxy from dist/ and fail on a
  // fresh clone that has not been built.
  environments: { __vitest__: { resolve: { conditions: ['source'] } } },
  test: {
    globalSetup: ['./test/global-setup.ts'],
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'client/src/**/*.test.ts',
            'shared/src/**/*.test.ts',
            'proxy/src/**/*.test.ts',
            'scripts/**/*.test.ts',
            'bench/**/*.test.ts',
          ],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'integration-tcp',
          include: ['client/test/**/*.test.ts'],
          exclude: ['client/test/browser/**'],
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
          exclude: ['client/test/browser/**'],
          environment: 'node',
          provide: { transport: 'websocket' },
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integrations',
          include: ['integrations/*/test/**/*.test.ts', 'test/pack/**/*.test.ts'],
          environment: 'node',
          provide: { transport: 'tcp' },
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
      {
        extends: true,
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['client/test/browser/**/*.test.ts'],
          globalSetup: ['./client/test/browser/relay-setup.ts'],
          api: { host: BROWSER_HOST, port: browserPort, strictPort: true },
          testTimeout: 30_000,
          hookTimeout: 30_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: chromiumLaunchOptions,
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        extends: true,
        test: {
          name: 'runtimes',
          include: ['test/runtimes/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'playground',
          include: ['playground/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
})
