/**
 * The playground page: connects with `@edgepg/client` over `@edgepg/client/websocket` through the relay that
 * served the page, runs the editor's SQL (all of it, or the statement under the cursor) as one simple query,
 * and shows the rows, the errors and every protocol message. All SQL runs here in the browser; the server only
 * relays bytes.
 */
import { type Client, connect } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { type Context, type SchemaCompletion, type Session, Store } from './app.ts'
import { SqlEditor } from './editor.ts'
import { History } from './history.ts'
import { Inspector } from './inspector.ts'
import { mountListen } from './listen.ts'
import { Notices } from './notices.ts'
import { clearError, renderError } from './render.ts'
import { runStatements } from './runner.ts'
import { mountSchema } from './schema.ts'
import { SequenceDiagram } from './sequence.ts'
import { statementAt } from './statements.ts'
import { tapped } from './tap.ts'
import { mountTheme } from './theme.ts'
import { WireDecoder, type WireMessage } from './wire.ts'

/** Defaults served by the relay at `/playground/config.json` (see playground/server.ts). */
interface Defaults {
  server?: string
  user?: string
  password?: string
  database?: string
  /** Where to find the password when the server does not hand it out. */
  passwordHint?: string
}

/**
 * Dates and json as PostgreSQL's own text: the grid shows what the server said (in the session's time zone;
 * json with every digit, which JSON.parse would round).
 */
const TYPES = { dates: 'string', parsers: { 114: String, 3802: String } } as const

/** A connect that has not logged in by then fails (the relay or the server is silent). */
const CONNECT_TIMEOUT = 10_000
/** Disconnect waits this long for a cancelled statement's answer, then gives it up. */
const END_TIMEOUT = 2_000

const DEFAULT_SQL = `select version();
select 42 as answer, null as nothing, now() as at, array[1, 2, 3] as list;`

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const form = byId<HTMLFormElement>('connection')
const field = (name: string) => byId<HTMLInputElement>(name)
const status = byId<HTMLElement>('status')
const runButton = byId<HTMLButtonElement>('run')
const runStatementButton = byId<HTMLButtonElement>('run-statement')
const disconnectButton = byId<HTMLButtonElement>('disconnect')
const cancelButton = byId<HTMLButtonElement>('cancel')
const errorView = byId<HTMLElement>('error')
const noticesView = byId<HTMLElement>('notices')
const output = { summary: byId<HTMLElement>('summary'), results: byId<HTMLElement>('results') }
const historyList = byId<HTMLOListElement>('history')
const inspector = new Inspector(byId<HTMLTableElement>('wire'), byId<HTMLElement>('wire-count'))
const history = new History(localStorage)
const sequence = new SequenceDiagram(byId('sequence'))
const editor = new SqlEditor(
  byId('sql'),
  history.entries()[0] ?? DEFAULT_SQL,
  { runAll: () => void run('all'), runStatement: () => void run('statement') },
  { dark: false },
)

let session: (Session & { done: Promise<void> }) | undefined
/** The connect in progress: every part that asks for a session meanwhile gets this one, not a second socket. */
let opening: Promise<Session> | undefined
/** Bumped by each connect and by Disconnect: a connect that is no longer the latest gives its socket up. */
let attempt = 0
/** Why the latest connect failed, for the connects it overtook (Disconnect clears it). */
let latestFailure: unknown
/** The parts' own queries that are on the wire: the editor's next run goes out after them. */
const asides = new Set<Promise<unknown>>()
/** Notices of the run in flight (shown with its results), or undefined between runs. */
let runNotices: Notices | undefined
const context: Context = {
  session: new Store<Session | undefined>(undefined),
  schema: new Store<SchemaCompletion>({}),
  runs: new Store(0),
  running: new Store(false),
  lastRun: new Store<Context['lastRun']['value']>(undefined),
  connect() {
    if (session) return Promise.resolve(session)
    return opening ?? startOpen()
  },
  async aside(work) {
    if (context.running.value) await runEnded()
    const started = work()
    asides.add(started)
    try {
      return await started
    } finally {
      asides.delete(started)
    }
  },
  draft(sql) {
    editor.setText(sql)
    editor.focus()
  },
  async run(sql) {
    editor.setText(sql)
    await run('all')
  },
}
/** True while a run the editor started is in flight. */
let isBusy = false

function setStatus(state: 'disconnected' | 'connecting' | 'connected' | 'failed', text: string) {
  status.dataset.state = state
  status.textContent = text
  // Disconnect also gives up a connect that hangs (a relay that accepts and never answers).
  disconnectButton.disabled = state !== 'connected' && state !== 'connecting'
}

/** Resolves when the editor's run in flight has ended. */
function runEnded(): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = context.running.subscribe((isRunning) => {
      if (isRunning) return
      unsubscribe()
      resolve()
    })
  })
}

/** After a run: the session's transaction state, as psql's prompt shows it (`*` in one, `!` failed). */
function showTransaction(current: Session) {
  if (session !== current) return
  const state = current.client.transactionStatus
  const suffix =
    state === 'transaction'
      ? ' · in a transaction'
      : state === 'failed'
        ? ' · transaction aborted: ROLLBACK to go on'
        : ''
  setStatus('connected', `connected to ${current.database} as ${current.user}${suffix}`)
}

/** A connect that is the latest one: `opening` while it runs, whoever asked for it. */
function startOpen(): Promise<Session> {
  const promise: Promise<Session> = open().finally(() => {
    if (opening === promise) opening = undefined
  })
  opening = promise
  return promise
}

/**
 * Opens a new connection with the panel's settings (closing any previous one). A connect overtaken by a
 * newer one (Connect again) or by Disconnect closes what it opened and settles as the newer one does.
 */
async function open(): Promise<Session> {
  const mine = ++attempt
  await close()
  if (mine !== attempt) return overtaken()
  inspector.clear()
  sequence.clear()
  const [host, port] = splitServer(field('server').value)
  const user = field('user').value
  const database = field('database').value || user
  const show = (message: WireMessage) => {
    inspector.add(message)
    sequence.add(message)
  }
  // One decoder per stream: the session's, then one for each CancelRequest's own short connection.
  const transport = tapped(webSocket({ url: field('relay-url').value }), () => {
    const wire = new WireDecoder(show)
    return (direction, chunk, at) => wire.push(direction, chunk, at)
  })
  setStatus('connecting', `connecting to ${database} as ${user}…`)
  try {
    const [client, connection] = await connect(
      {
        host,
        port,
        user,
        password: field('password').value,
        database,
        sslmode: 'disable',
        applicationName: 'edgepg playground',
      },
      { transport, types: TYPES, connectTimeout: CONNECT_TIMEOUT },
    )
    const done = connection.run()
    if (mine !== attempt) {
      void client.end().catch(() => {})
      return await overtaken()
    }
    // Shown with the run that caused them; with a listener the client no longer writes them to the console.
    connection.on('notice', (notice) => runNotices?.add(notice))
    session = { client, connection, user, database, done }
    context.session.set(session)
    done.then(
      () => closed(client, 'disconnected'),
      (error: unknown) =>
        closed(client, `connection lost: ${error instanceof Error ? error.message : error}`),
    )
    setStatus('connected', `connected to ${database} as ${user}`)
    return session
  } catch (error) {
    if (mine !== attempt) return await overtaken()
    latestFailure = error
    setStatus('failed', 'not connected')
    throw error
  }
}

/**
 * What a connect that is no longer the latest settles with: the newer connect's session, or its failure, or
 * (after Disconnect) a refusal.
 */
function overtaken(): Promise<Session> {
  if (session) return Promise.resolve(session)
  if (opening) return opening
  return Promise.reject(latestFailure ?? new Error('not connected: the connect was given up (Disconnect)'))
}

function closed(client: Client, text: string) {
  if (session?.client !== client) return
  session = undefined
  context.session.set(undefined)
  setStatus('disconnected', text)
}

/**
 * Ends the session. A statement still running is cancelled first (the run shows 57014) and whatever is
 * unanswered after {@link END_TIMEOUT} is given up, so Disconnect never waits for a long statement.
 */
async function close() {
  const current = session
  session = undefined
  if (!current) return
  context.session.set(undefined)
  if (isBusy)
    await current.client
      .cancelToken()
      .cancel()
      .catch(() => {})
  await current.client.end({ timeout: END_TIMEOUT }).catch(() => {})
  await current.done.catch(() => {})
  // Meanwhile another part may have asked for a session again: its status stands.
  if (!session && !opening) setStatus('disconnected', 'disconnected')
}

async function disconnectClicked() {
  attempt++
  opening = undefined
  latestFailure = undefined
  if (!session) setStatus('disconnected', 'disconnected')
  await close()
}

/** `host:port`, `[v6]:port` or a bare host (port 5432). */
function splitServer(text: string): [string, number] {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(text.trim()) ?? /^([^:]+)(?::(\d+))?$/.exec(text.trim())
  if (!match) return [text.trim(), 5432]
  return [match[1]!, match[2] ? Number(match[2]) : 5432]
}

/** Connect (again) with the panel's settings; a connect still pending is given up for this one. */
async function connectClicked() {
  if (isBusy) return
  clearError(errorView)
  const connecting = startOpen()
  const mine = attempt
  try {
    await connecting
  } catch (error) {
    // Only the latest connect speaks: one overtaken by a newer Connect leaves that one's outcome shown.
    if (mine === attempt) renderError(error, undefined, errorView)
  }
}

/**
 * Runs the whole text (`all`) or the statement under the cursor, as one simple query. A server error's
 * position is selected in the editor: the runner counts it within the SQL it ran, so a statement's start is
 * added.
 */
async function run(scope: 'all' | 'statement') {
  const text = editor.text
  const statement = scope === 'all' ? { start: 0, text } : statementAt(text, editor.cursor)
  if (isBusy || statement === undefined || statement.text.trim() === '') return
  const sql = statement.text
  isBusy = true
  context.running.set(true)
  runButton.disabled = true
  runStatementButton.disabled = true
  showHistory(history.add(sql))
  clearError(errorView)
  const notices = new Notices(noticesView)
  runNotices = notices
  let commands: readonly string[] | undefined
  try {
    const current = await context.connect()
    // A part's query still on the wire goes first (a Cancel must not hit it instead of the user's statement).
    await Promise.allSettled([...asides])
    const outcome = await runStatements(current.client, sql, {
      ...output,
      error: errorView,
      cancel: cancelButton,
    })
    commands = outcome.commands
    const range = outcome.errorRange
    // Only in the text that ran: the user may have changed it meanwhile (a history entry, typing).
    if (range && editor.text === text)
      editor.select({ start: statement.start + range.start, end: statement.start + range.end })
    showTransaction(current)
  } catch (error) {
    output.summary.textContent = ''
    output.results.replaceChildren()
    renderError(error, undefined, errorView)
  } finally {
    runNotices = undefined
    notices.done()
    isBusy = false
    runButton.disabled = false
    runStatementButton.disabled = false
    context.running.set(false)
    context.lastRun.set({ sql, commands })
    context.runs.set(context.runs.value + 1)
  }
}

function showHistory(entries: string[]) {
  historyList.replaceChildren(
    ...entries.map((sql) => {
      const button = document.createElement('button')
      button.type = 'button'
      button.textContent = sql.replace(/\s+/g, ' ')
      button.title = sql
      button.addEventListener('click', () => context.draft(sql))
      const item = document.createElement('li')
      item.append(button)
      return item
    }),
  )
}

async function loadDefaults() {
  field('relay-url').value = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1`
  const response = await fetch('/playground/config.json')
  if (!response.ok) return
  const defaults = (await response.json()) as Defaults
  for (const [id, value] of [
    ['server', defaults.server],
    ['user', defaults.user],
    ['password', defaults.password],
    ['database', defaults.database],
  ] as const) {
    if (value !== undefined && field(id).value === '') field(id).value = value
  }
  if (defaults.passwordHint !== undefined) field('password').placeholder = defaults.passwordHint
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  void connectClicked()
})
disconnectButton.addEventListener('click', () => void disconnectClicked())
runButton.addEventListener('click', () => void run('all'))
runStatementButton.addEventListener('click', () => void run('statement'))
byId('clear-history').addEventListener('click', () => {
  history.clear()
  showHistory([])
})
byId('clear-wire').addEventListener('click', () => {
  inspector.clear()
  sequence.clear()
})
for (const tab of document.querySelectorAll<HTMLButtonElement>('.tabs [role="tab"]')) {
  tab.addEventListener('click', () => {
    for (const other of document.querySelectorAll<HTMLButtonElement>('.tabs [role="tab"]')) {
      const isSelected = other === tab
      other.setAttribute('aria-selected', String(isSelected))
      byId(other.getAttribute('aria-controls')!).hidden = !isSelected
    }
  })
}
mountTheme(byId('theme'), (theme) => editor.setDark(theme === 'dark'))
context.schema.subscribe((schema) => editor.setSchema(schema))
mountSchema(byId('schema'), context)
mountListen(byId('listen'), context)

showHistory(history.entries())
setStatus('disconnected', 'disconnected')
loadDefaults().then(
  () => document.body.setAttribute('data-ready', ''),
  (error: unknown) => renderError(error, undefined, errorView),
)
