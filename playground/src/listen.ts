/**
 * The LISTEN/NOTIFY panel: LISTEN on channels of the open session, send a NOTIFY, and watch notifications
 * arrive (newest first: `listen-received.ts`). The channels are the panel's wish, carried out on
 * the session when it can: when the session is replaced (reconnect) the panel LISTENs again on the new one
 * and says so; while disconnected the listens are shown paused.
 *
 * The panel shares the session with the editor, so it never sends while the editor's run is in flight
 * (`context.running`) nor while the session is inside a transaction the editor opened: a LISTEN or UNLISTEN
 * asked for then waits (the channel says what for) and goes out once the session is idle again, after the
 * run or after COMMIT / ROLLBACK — inside the transaction it would take effect only at COMMIT and be undone
 * by ROLLBACK. A Notify waits for a run to end but is refused inside a transaction (it would be sent only at
 * COMMIT; sending it later would change when it happens). Payloads and channel names that the server would
 * refuse are refused before sending, so nothing the panel sends can fail the user's transaction.
 *
 * After every editor run that leaves the session idle, the panel reads `pg_listening_channels()` (when it
 * shows any channel) and follows the server: a channel the editor's UNLISTEN undid shows "not listening"
 * with Listen again, one the editor LISTENed shows as listening.
 *
 * Each notification shows the sending backend's pid and whether that is this session's own backend
 * (`pg_backend_pid()`, read once per session, pipelined with the first LISTEN; until it is read, the pid
 * from BackendKeyData). Payloads and channel names reach the page as text nodes only.
 */
import type { Context, Session } from './app.ts'
import { ReceivedList } from './listen-received.ts'
import {
  type Blocker,
  button,
  type ChannelState,
  channelProblem,
  deferral,
  element,
  form,
  input,
  label,
  payloadProblem,
  quoteIdentifier,
  stateText,
  TRANSACTION_FAILED,
  TRANSACTION_OPEN,
} from './listen-view.ts'

/** The session the panel listens on, and how it knows its own backend. */
interface Live {
  session: Session
  /** This session's backend pid: BackendKeyData's until `pg_backend_pid()` has answered. */
  pid: number
  pidRead: Promise<void> | undefined
  detach: () => void
}

/** What one round of sending did: each LISTEN's and UNLISTEN's problem (undefined: done), what changed. */
interface Synced {
  listened: Map<string, string | undefined>
  unlistened: Map<string, string | undefined>
  changes: string[]
}

/** Mounts the panel into `container` (the `#listen` element of the LISTEN / NOTIFY tab). */
export function mountListen(container: HTMLElement, context: Context): void {
  new ListenPanel(container, context)
}

class ListenPanel {
  readonly #context: Context
  readonly #channelInput = input('listen-channel', 'channel name, e.g. Jobs Done')
  readonly #listenButton = button('listen-button', 'Listen', 'submit')
  readonly #status = element('p', 'listen-status')
  readonly #channelList = element('ul', 'listen-channels')
  readonly #notifyChannel = input('notify-channel', 'channel')
  readonly #notifyPayload = input('notify-payload', 'payload (text)')
  readonly #notifyButton = button('notify-button', 'Notify', 'submit')
  readonly #received = new ReceivedList(document.getElementById('tab-listen'))
  readonly #channels = new Map<string, { state: ChannelState; problem?: string }>()
  /** For each read of the server's channels in flight: the channels the panel changed since it was sent. */
  readonly #reads = new Set<Set<string>>()
  #live: Live | undefined

  constructor(container: HTMLElement, context: Context) {
    this.#context = context
    this.#status.id = 'listen-status'
    this.#status.setAttribute('role', 'status')
    this.#channelList.id = 'listen-channels'
    const listenForm = form('listen-form', [label('Channel', this.#channelInput), this.#listenButton], () =>
      this.#listen(this.#channelInput.value),
    )
    const notifyForm = form(
      'notify-form',
      [
        label('Notify channel', this.#notifyChannel),
        label('Payload', this.#notifyPayload),
        this.#notifyButton,
      ],
      () => this.#notify(this.#notifyChannel.value, this.#notifyPayload.value),
    )
    container.replaceChildren(listenForm, this.#status, this.#channelList, notifyForm, this.#received.view)
    context.session.subscribe((session) => this.#sessionChanged(session))
    context.runs.subscribe(() => this.#runEnded())
    this.#say('not connected: Listen connects with the connection panel’s settings')
    this.#showChannels()
  }

  async #listen(name: string) {
    const problem = channelProblem(name)
    if (problem) return this.#say(problem, true)
    const existing = this.#channels.get(name)?.state
    if (existing === 'waiting') return this.#say(`already waiting to listen on ${name}`)
    if (existing !== undefined && existing !== 'undone' && existing !== 'failed')
      return this.#say(`already listening on ${name}`)
    this.#listenButton.disabled = true
    try {
      const session = await this.#context.connect()
      const live = this.#attach(session)
      this.#channels.set(name, { state: 'waiting' })
      this.#touched(name)
      this.#channelInput.value = ''
      if (this.#notifyChannel.value === '') this.#notifyChannel.value = name
      const sent = this.#sync(false)
      if (!sent) return this.#say(`will listen on ${name} ${deferral('LISTEN', this.#blocker(live))}`)
      const failure = (await sent).listened.get(name)
      if (failure) this.#say(`could not listen on ${name}: ${failure}`, true)
      else this.#say(`listening on ${name}`)
    } catch (error) {
      this.#say(`could not connect to listen on ${name}: ${reason(error)}`, true)
    } finally {
      this.#listenButton.disabled = false
    }
  }

  async #unlisten(name: string) {
    const channel = this.#channels.get(name)
    const live = this.#live
    if (!channel || channel.state === 'leaving') return
    if (!live || !['starting', 'listening'].includes(channel.state)) {
      // Nothing on the server to undo: it was never sent on this session, failed, or was undone already.
      this.#channels.delete(name)
      this.#touched(name)
      this.#showChannels()
      return this.#say(`no longer listening on ${name}`)
    }
    channel.state = 'leaving'
    const sent = this.#sync(false)
    if (!sent) return this.#say(`will stop listening on ${name} ${deferral('UNLISTEN', this.#blocker(live))}`)
    const failure = (await sent).unlistened.get(name)
    if (failure) this.#say(`could not unlisten ${name}: ${failure}`, true)
    else this.#say(`stopped listening on ${name}`)
  }

  async #notify(channel: string, payload: string) {
    const problem = channelProblem(channel)
    if (problem) return this.#say(problem, true)
    const refused = payloadProblem(payload)
    if (refused) return this.#say(`cannot notify ${channel}: ${refused}`, true)
    this.#notifyButton.disabled = true
    try {
      let session = await this.#context.connect()
      while (this.#context.running.value) {
        this.#say('Notify waits for the editor’s run to finish…')
        await untilRunEnds(this.#context)
        session = await this.#context.connect()
      }
      const status = session.client.transactionStatus
      if (status !== 'idle')
        return this.#say(`not sent: ${status === 'failed' ? TRANSACTION_FAILED : TRANSACTION_OPEN}`, true)
      await this.#context.aside(() => session.client.query('select pg_notify($1, $2)', [channel, payload]))
      this.#say(`sent a notification to ${channel}`)
    } catch (error) {
      this.#say(`could not notify ${channel}: ${reason(error)}`, true)
    } finally {
      this.#notifyButton.disabled = false
    }
  }

  /** Why the panel cannot send on `live` now, or undefined when the session is idle and no run is in flight. */
  #blocker(live: Live): Blocker | undefined {
    if (this.#context.running.value) return 'run'
    const status = live.session.client.transactionStatus
    return status === 'idle' ? undefined : status
  }

  /**
   * Sends what the channels wait for — UNLISTENs, then LISTENs (with the pid query on a new session) and,
   * when `read` and the panel shows any channel, `pg_listening_channels()` — all in one flight; or, while
   * the panel must not send (no session, a run in flight, a transaction open), nothing: undefined.
   */
  #sync(read: boolean): Promise<Synced> | undefined {
    const live = this.#live
    this.#showChannels()
    if (!live || this.#blocker(live) !== undefined) return undefined
    const client = live.session.client
    const named = (state: ChannelState) =>
      [...this.#channels].filter(([, channel]) => channel.state === state).map(([name]) => name)
    const listen = named('waiting')
    const unlisten = named('leaving')
    for (const name of listen) this.#channels.get(name)!.state = 'starting'
    for (const name of unlisten) this.#channels.delete(name)
    this.#touched(...listen, ...unlisten)
    if (listen.length > 0) {
      live.pidRead ??= this.#context
        .aside(() => client.query('select pg_backend_pid() as pid'))
        .then(
          ({ rows }) => {
            live.pid = Number(rows[0]?.pid)
          },
          () => {}, // the LISTENs say what went wrong
        )
    }
    const send = (command: string) => (name: string) =>
      this.#context
        .aside(() => client.simpleQuery(`${command} ${quoteIdentifier(name)}`))
        .then(
          () => undefined,
          (error: unknown) => reason(error),
        )
    const unlistened = Promise.all(unlisten.map(send('UNLISTEN')))
    const listened = Promise.all(listen.map(send('LISTEN')))
    const changes = read && this.#channels.size > 0 ? this.#follow(live) : Promise.resolve([])
    this.#showChannels()
    return (async () => {
      const synced: Synced = {
        unlistened: new Map(zip(unlisten, await unlistened)),
        listened: new Map(zip(listen, await listened)),
        changes: [],
      }
      if (this.#live === live) {
        for (const [name, problem] of synced.listened) {
          const channel = this.#channels.get(name)
          if (channel?.state !== 'starting') continue // unlistened meanwhile
          channel.state = problem ? 'failed' : 'listening'
          channel.problem = problem
        }
      }
      synced.changes = await changes
      this.#showChannels()
      return synced
    })()
  }

  /**
   * Reads the channels the session listens on and follows them: a listening channel the server has not
   * becomes `undone`, one the server listens on is shown listening. Channels the panel changed since the
   * read was sent are left as they are. Gives what changed, as sentences.
   */
  async #follow(live: Live): Promise<string[]> {
    const touched = new Set<string>()
    this.#reads.add(touched)
    try {
      const [result] = await this.#context.aside(() =>
        live.session.client.simpleQuery('select pg_listening_channels() as channel'),
      )
      const listening = new Set((result?.rows ?? []).map((row) => String(row.channel)))
      if (this.#live !== live) return []
      const undone: string[] = []
      const joined: string[] = []
      for (const [name, channel] of this.#channels) {
        if (touched.has(name)) continue
        if (channel.state === 'listening' && !listening.has(name)) {
          channel.state = 'undone'
          undone.push(name)
        } else if ((channel.state === 'undone' || channel.state === 'failed') && listening.has(name)) {
          channel.state = 'listening'
          channel.problem = undefined
          joined.push(name)
        }
      }
      for (const name of listening) {
        if (this.#channels.has(name) || touched.has(name)) continue
        this.#channels.set(name, { state: 'listening' })
        joined.push(name)
      }
      return [
        ...(undone.length > 0
          ? [`not listening on ${undone.join(', ')} any more: the editor’s UNLISTEN (or DISCARD) undid it`]
          : []),
        ...(joined.length > 0 ? [`listening on ${joined.join(', ')}: LISTENed in the editor`] : []),
      ]
    } catch (error) {
      return [`could not read the session’s channels: ${reason(error)}`]
    } finally {
      this.#reads.delete(touched)
    }
  }

  /** Marks `names` as changed by the panel for every read of the server's channels in flight. */
  #touched(...names: string[]) {
    for (const touched of this.#reads) for (const name of names) touched.add(name)
  }

  /** After every editor run: sends what waited for it, and follows the server's channels. */
  #runEnded() {
    const live = this.#live
    const sent = this.#sync(true)
    if (!live || !sent) return
    void sent.then(({ listened, unlistened, changes }) => {
      if (this.#live !== live) return
      const done = (results: Map<string, string | undefined>) =>
        [...results].filter(([, problem]) => problem === undefined).map(([name]) => name)
      const failed = [...listened, ...unlistened].filter(([, problem]) => problem !== undefined)
      const said = [
        ...(done(listened).length > 0 ? [`listening on ${done(listened).join(', ')}`] : []),
        ...(done(unlistened).length > 0 ? [`stopped listening on ${done(unlistened).join(', ')}`] : []),
        ...failed.map(([name, problem]) => `could not change ${name}: ${problem}`),
        ...changes,
      ]
      if (said.length > 0) this.#say(said.join('; '), failed.length > 0)
    })
  }

  /** Listens to `session`'s notifications (once per session). */
  #attach(session: Session): Live {
    if (this.#live?.session === session) return this.#live
    this.#live?.detach()
    const live: Live = { session, pid: session.connection.processId, pidRead: undefined, detach: () => {} }
    live.detach = session.connection.on('notification', (notification) =>
      this.#received.add(notification, live),
    )
    this.#live = live
    return live
  }

  #sessionChanged(session: Session | undefined) {
    if (session !== undefined && this.#live?.session === session) return
    this.#live?.detach()
    this.#live = undefined
    for (const [name, channel] of this.#channels) {
      if (channel.state === 'leaving')
        this.#channels.delete(name) // a new session listens on nothing
      else if (channel.state !== 'undone') {
        channel.state = session ? 'waiting' : 'paused'
        channel.problem = undefined
      }
    }
    const names = [...this.#channels].filter(([, c]) => c.state !== 'undone').map(([name]) => name)
    if (!session) {
      this.#showChannels()
      if (names.length > 0) {
        this.#say(`disconnected: ${plural(names.length, 'listen')} paused until the next connection`)
      } else this.#say('disconnected')
      return
    }
    const live = this.#attach(session)
    const sent = this.#sync(false)
    if (names.length === 0) return this.#say('connected: enter a channel and Listen')
    if (!sent) {
      return this.#say(
        `reconnected: will listen again on ${names.join(', ')} ${deferral('LISTEN', this.#blocker(live))}`,
      )
    }
    this.#say(`reconnected: listening again on ${names.join(', ')}…`)
    void sent.then(({ listened }) => {
      if (this.#live !== live) return
      const failed = names.filter((name) => listened.get(name) !== undefined)
      this.#say(
        failed.length === 0
          ? `reconnected: listening again on ${names.join(', ')}`
          : `reconnected, but could not listen again on ${failed.join(', ')}`,
        failed.length > 0,
      )
    })
  }

  #showChannels() {
    if (this.#channels.size === 0) {
      this.#channelList.replaceChildren(element('li', 'muted', 'listening on no channel'))
      return
    }
    const blocker = this.#live && this.#blocker(this.#live)
    this.#channelList.replaceChildren(
      ...[...this.#channels].map(([name, channel]) => {
        const item = element('li', `channel-item ${channel.state}`)
        item.dataset.channel = name
        const problem = channel.problem ? `: ${channel.problem}` : ''
        item.append(
          element('span', 'channel', name),
          element('span', 'state', `${stateText(channel.state, blocker)}${problem}`),
        )
        const action = (text: string, className: string, act: () => Promise<void>) => {
          const node = button('', text, 'button')
          node.classList.add('small', className)
          node.addEventListener('click', () => void act())
          item.append(node)
        }
        if (channel.state === 'undone') {
          action('Listen again', 'listen-again', () => this.#listen(name))
          action('remove', 'remove', () => this.#unlisten(name))
        } else if (channel.state !== 'leaving') action('Unlisten', 'unlisten', () => this.#unlisten(name))
        return item
      }),
    )
  }

  #say(text: string, isProblem = false) {
    this.#status.textContent = text
    this.#status.classList.toggle('bad', isProblem)
  }
}

/** Resolves once the editor's run in flight (if any) has ended. */
function untilRunEnds(context: Context): Promise<void> {
  return new Promise((resolve) => {
    if (!context.running.value) return resolve()
    const stop = context.running.subscribe((running) => {
      if (running) return
      stop()
      resolve()
    })
  })
}

const zip = <A, B>(as: A[], bs: B[]): [A, B][] => as.map((a, i) => [a, bs[i]!])
const reason = (error: unknown) => (error instanceof Error ? error.message : String(error))
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
