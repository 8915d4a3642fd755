/**
 * Prisma Client 7 on @edgepg/prisma in real workerd: a Worker makes its pool and PrismaClient per request
 * (the client generated with `runtime = "workerd"`, its query compiler loaded as a compiled wasm module), runs
 * a nested create, a findMany with include and an interactive transaction over cloudflare:sockets and through
 * the relay, and ends the pool inside the request with `$disconnect()`; no server session is left.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { admin, sessionsNamed, waitFor } from '../pg-admin.ts'
import { COMPATIBILITY_DATE } from './helpers.ts'

const pg = inject('pg')
const { user, password } = pg.roles.scram
const SCHEMA = 'prisma_worker'
const APP = 'prisma_worker'
const databaseUrl = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${pg.database}?application_name=${APP}`
const WASM = fileURLToPath(
  new URL(
    '../../integrations/prisma/generated/workerd/internal/query_compiler_fast_bg.wasm',
    import.meta.url,
  ),
)

/**
 * Bundles the fixture as wrangler would, keeping the query compiler's `.wasm?module` import as a module of
 * its own (workerd compiles it; a Worker may not compile wasm from bytes at run time).
 */
async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./fixtures/prisma-worker.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser', 'source'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'silent',
    plugins: [
      {
        name: 'wasm-module',
        setup(b) {
          b.onResolve({ filter: /\.wasm\?module$/ }, () => ({
            path: './query_compiler.wasm',
            external: true,
          }))
        },
      },
    ],
  })
  return result.outputFiles[0]!.text
}

let mf: Miniflare

beforeAll(async () => {
  const owner = pg.roles.scram.user
  await admin(`drop schema if exists ${SCHEMA} cascade`)
  await admin(`create schema ${SCHEMA} authorization "${owner}"`)
  await admin(`
    set role "${owner}";
    create table ${SCHEMA}.person (id serial primary key, name text not null, email text not null unique);
    create table ${SCHEMA}.pet (id serial primary key, owner_id int not null references ${SCHEMA}.person(id), species text not null);
    create table ${SCHEMA}.ledger (id serial primary key, tag text not null);
    reset role;
  `)
  mf = new Miniflare({
    modules: [
      { type: 'ESModule', path: 'worker.mjs', contents: await bundle() },
      { type: 'CompiledWasm', path: 'query_compiler.wasm', contents: await readFile(WASM) },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
    cf: false,
    bindings: { DATABASE_URL: databaseUrl, RELAY_URL: inject('relayUrl'), SCHEMA },
    host: '127.0.0.1',
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await admin(`drop schema if exists ${SCHEMA} cascade`)
})

async function disconnected(): Promise<number> {
  const response = await mf.dispatchFetch('http://worker.test/disconnected')
  return ((await response.json()) as { disconnected: number }).disconnected
}

describe('prisma in a Worker', () => {
  for (const route of ['/tcp', '/relay']) {
    it(`creates, reads with include and runs a transaction over ${route}, per request`, async () => {
      const before = await disconnected()
      const via = route.slice(1)
      // Two requests in a row: each makes and ends its own pool and client.
      for (const name of ['ann', 'bo']) {
        const response = await mf.dispatchFetch(`http://worker.test${route}?name=${name}`)
        const body = await response.json()
        expect({ status: response.status, body }).toEqual({
          status: 200,
          body: {
            created: { name, email: `${name}@${via}.worker` },
            found: [{ name, pets: [{ species: 'cat' }] }],
            inTransaction: true,
          },
        })
      }
      expect(
        await admin(`select tag from ${SCHEMA}.ledger where tag like $1 order by id`, [`%-${via}`]),
      ).toEqual([{ tag: `ann-${via}` }, { tag: `bo-${via}` }])
      // $disconnect() ran to its end inside each request, and no session of the Worker's pools stays open.
      await waitFor(async () => (await disconnected()) === before + 2)
      await waitFor(async () => (await sessionsNamed(APP)) === 0)
    })
  }
})
