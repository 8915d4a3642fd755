/**
 * The browser project's page origin is fixed before the run so the relay can allow exactly that Origin:
 * a free loopback port, picked once when the config loads (vitest binds it with `strictPort`).
 */
import { freePort } from '../../../scripts/embedded-pg.ts'

export const BROWSER_HOST = '127.0.0.1'

export const freeBrowserPort = (): Promise<number> => freePort(BROWSER_HOST)
