/**
 * The browser project's page origin is fixed before the run so the relay can allow exactly that Origin:
 * a free loopback port, picked once when the config loads (vitest binds it with `strictPort`).
 */
import { createServer } from 'node:net'

export const BROWSER_HOST = '127.0.0.1'

export async function freeBrowserPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, BROWSER_HOST, () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}
