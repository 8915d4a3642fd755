/**
 * Serving the playground from the relay (Node): bundles the page's TypeScript with esbuild, in memory, and
 * returns routes to mount on the relay's hono app. The server only hands out files and defaults; every SQL
 * statement runs in the browser, through the relay, with `@edgepg/client`.
 *
 * @example
 * ```ts
 * const mount = await createPlayground({ server: '127.0.0.1:5432', user: 'app', database: 'app' })
 * const relay = await startRelay({ allow: ['127.0.0.1:5432'], allowedOrigins: ['http://127.0.0.1:8080'] }, { mount })
 * ```
 */
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Context, Hono } from 'hono'

/** What the connection panel starts with, served at `/playground/config.json`. */
export interface PlaygroundDefaults {
  /** `host:port` the relay dials. */
  server: string
  user: string
  /** Only for a throwaway local database (`npm start`'s embedded one): anyone who can load the page reads it. */
  password?: string | undefined
  database: string
  /**
   * Shown in the empty password field when the page does not get the password (`npm start` beyond loopback):
   * where the user finds it. Never the password itself.
   */
  passwordHint?: string | undefined
}

/** The page, its stylesheet and its bundled script. */
export interface PlaygroundAssets {
  html: string
  css: string
  js: string
}

/**
 * Nothing but our own files: scripts and styles from this origin only, no inline code, and connections only
 * back to this origin or to a WebSocket (the relay URL is editable in the page).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** Bundles `src/main.ts` (minified ESM for browsers) and reads the page and its stylesheet. */
export async function buildPlayground(): Promise<PlaygroundAssets> {
  const [bundle, html, css] = await Promise.all([
    build({
      entryPoints: [here('src/main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['source'],
      minify: true,
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    }),
    readFile(here('index.html'), 'utf8'),
    readStyles(),
  ])
  const js = bundle.outputFiles[0]?.text
  if (js === undefined) throw new Error('esbuild produced no output for playground/src/main.ts')
  return { html, css, js }
}

/**
 * `style.css` (the layout and the theme's colours), then each part's own stylesheet from `styles/`, in name
 * order, as one file.
 */
async function readStyles(): Promise<string> {
  const parts = (await readdir(here('styles/')).catch(() => []))
    .filter((name) => name.endsWith('.css'))
    .sort()
  const files = await Promise.all(
    ['style.css', ...parts.map((name) => `styles/${name}`)].map((path) => readFile(here(path), 'utf8')),
  )
  return files.join('\n')
}

/** Options of the playground's routes. */
export interface PlaygroundRouteOptions {
  /**
   * `Host` headers the page is served under (`127.0.0.1:8080`, `localhost:8080`). When set, a request for
   * any other host gets 421 and no file: a page of another site that rebinds its DNS name to this address
   * (DNS rebinding) cannot read `/playground/config.json` and the password in it.
   */
  hosts?: string[] | undefined
}

/** Routes for `/`, `/playground/app.js`, `/playground/style.css` and `/playground/config.json`. */
export function playgroundRoutes(
  assets: PlaygroundAssets,
  defaults: PlaygroundDefaults,
  options: PlaygroundRouteOptions = {},
): (app: Hono) => void {
  const config = JSON.stringify(defaults)
  const hosts = options.hosts && new Set(options.hosts.map((host) => host.toLowerCase()))
  const serve =
    (body: string, contentType: string) =>
    (c: Context): Response =>
      hosts && !hosts.has((c.req.header('host') ?? '').toLowerCase())
        ? c.body(
            'this playground is not served under that host name\n',
            421,
            headers('text/plain; charset=utf-8'),
          )
        : c.body(body, 200, headers(contentType))
  return (app) => {
    app.get('/', serve(assets.html, 'text/html; charset=utf-8'))
    app.get('/playground/app.js', serve(assets.js, 'text/javascript; charset=utf-8'))
    app.get('/playground/style.css', serve(assets.css, 'text/css; charset=utf-8'))
    app.get('/playground/config.json', serve(config, 'application/json; charset=utf-8'))
  }
}

/** Builds the assets and returns the routes, ready for `startRelay(config, { mount })`. */
export async function createPlayground(
  defaults: PlaygroundDefaults,
  options?: PlaygroundRouteOptions,
): Promise<(app: Hono) => void> {
  return playgroundRoutes(await buildPlayground(), defaults, options)
}

function headers(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  }
}
