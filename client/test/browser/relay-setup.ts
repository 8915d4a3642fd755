/**
 * Global setup of the `browser` project: a relay that, like one in production, allows exactly the page's
 * Origin (`http://127.0.0.1:<browser port>`) and refuses requests without one. It is provided to the page as
 * `relayUrl`, in place of the root setup's relay (which allows a missing Origin for Node clients).
 */
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import type { TestProject } from 'vitest/node'

export default async function setup(project: TestProject) {
  const { host, port } = project.config.api
  if (!host || !port) throw new Error('the browser project needs api.host and api.port set')
  const relay: RunningRelay = await startRelay(
    {
      port: 0,
      allow: ['127.0.0.1/32:*'],
      allowedOrigins: [`http://${host}:${port}`],
      allowMissingOrigin: 'never',
      shutdownGrace: 1000,
    },
    { logger: silentLogger },
  )
  project.provide('relayUrl', relay.wsUrl)
  return () => relay.shutdown()
}
