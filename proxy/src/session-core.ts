/**
 * One relayed session, the same on every runtime: a WebSocket from the client on one side, a socket to
 * PostgreSQL on the other, each behind a thin adapter ({@link ClientEnd}, {@link UpstreamEnd}). Node
 * (`ws` + `node:net`, ./session.ts) and the Worker (`WebSocketPair` + `cloudflare:sockets`,
 * ./runtime/worker-session.ts) only translate events; every rule lives here:
 *
 * - States: `startup` (waiting for the first packet) → `dialing` → `open` → `closed`.
 * - Protocol pinning: nothing is dialed until the client's first bytes classify as a PostgreSQL startup,
 *   SSLRequest, GSSENCRequest or CancelRequest packet; anything else closes with 1008, no dial. The dial goes
 *   to the exact address the policy validated.
 * - Limits: text frames close with 1003, messages over `maxPayload` with 1009; startup timeout and lifetime
 *   (config or token expiry) close with 1008.
 * - Liveness ({@link RelaySession.tick}): "idle" means nobody is there, not that no bytes moved. Where the
 *   runtime can ping (Node), the relay pings at least twice per `idleTimeout`; a client not heard from (no
 *   message, no pong) for `idleTimeout` is closed with 1001, and one that leaves a ping unanswered for
 *   `pingInterval` is terminated. A client that answers pings is never idle, however long its session stays
 *   quiet (LISTEN, a long query). A client the relay stopped reading (backpressure) cannot be pinged; it is
 *   alive while bytes sent to it are written out, and terminated once none have been for `idleTimeout`.
 *   Where the runtime cannot ping (a Worker), traffic either way is the only sign of life, so there idle
 *   still means no bytes either way.
 * - Backpressure both ways, with one high-water mark: PostgreSQL → client pauses the upstream socket while the
 *   client's send buffer is past it; client → PostgreSQL pauses reading the client while the upstream's
 *   buffer is past it. A runtime that cannot pause its client (a Worker) holds at most
 *   {@link MAX_HELD_UNPAUSABLE} bytes, then closes with 1009; one that cannot report its send buffer (a Worker
 *   today, workerd#988) sends without pausing.
 * - No handler throws out: every entry point catches, logs, and closes the session with 1011.
 */
import { CloseCode, CloseReason, classifyFirstPacket } from '@edgepg/shared'
import type { DenialCategory } from './metrics.ts'
import {
  type ClientEnd,
  firstBytes,
  livenessTick,
  MAX_HELD_UNPAUSABLE,
  messageOf,
  type SessionDeps,
  type SessionInfo,
  safely,
  type UpstreamEnd,
} from './session-ends.ts'

export type {
  ClientEnd,
  OpenUpstream,
  SessionDeps,
  SessionInfo,
  UpstreamEnd,
  UpstreamEvents,
} from './session-ends.ts'
export { livenessTick, MAX_HELD_UNPAUSABLE, messageOf, safely } from './session-ends.ts'

/** The denial category of each reason a session is closed with 1008 (policy). */
const POLICY_CLOSE_CATEGORY: Record<string, DenialCategory> = {
  [CloseReason.denied]: 'protocol',
  [CloseReason.startupTimeout]: 'startup-timeout',
  [CloseReason.lifetime]: 'lifetime',
}

export type SessionState = 'startup' | 'dialing' | 'open' | 'closed'

export class RelaySession {
  readonly info: SessionInfo
  #state: SessionState = 'startup'
  readonly #client: ClientEnd
  readonly #deps: SessionDeps
  #upstream: UpstreamEnd | undefined
  /** Client bytes that arrived before the upstream was open. */
  #pending: Uint8Array[] = []
  #pendingBytes = 0
  #isUpstreamPaused = false
  /** Last sign of life: a message or pong from the client (and, where pings are impossible, any traffic). */
  #lastSeen = Date.now()
  /** When the unanswered ping was sent; undefined when none is outstanding. */
  #pingSentAt: number | undefined
  #startupTimer: ReturnType<typeof setTimeout> | undefined
  #lifetimeTimer: ReturnType<typeof setTimeout> | undefined
  /** Bytes handed to the client end since the session started. */
  #sentToClient = 0
  /** Bytes written out to the client (sent minus still buffered) as of the last liveness tick. */
  #writtenAtTick = 0

  constructor(client: ClientEnd, info: SessionInfo, deps: SessionDeps) {
    this.#client = client
    this.info = info
    this.#deps = deps
    const { config } = deps
    this.#startupTimer = setTimeout(
      () => this.#guard(() => this.close(CloseCode.policy, CloseReason.startupTimeout)),
      config.startupTimeout,
    )
    const lifetimes = [config.maxLifetime > 0 ? config.maxLifetime : Infinity]
    if (info.expiresAt !== undefined) lifetimes.push(Math.max(0, info.expiresAt - Date.now()))
    const lifetime = Math.min(...lifetimes)
    if (Number.isFinite(lifetime)) {
      this.#lifetimeTimer = setTimeout(
        () => this.#guard(() => this.close(CloseCode.policy, CloseReason.lifetime)),
        lifetime,
      )
    }
    deps.metrics.openSessions++
    deps.metrics.sessionsTotal++
  }

  get state(): SessionState {
    return this.#state
  }

  /** Bytes buffered toward the client (0 when the runtime cannot tell). */
  get bufferedToClient(): number {
    return this.#client.bufferedAmount ?? 0
  }

  /** Client bytes held by the relay: not yet dialed, or queued on the upstream socket. */
  get bufferedToUpstream(): number {
    return this.#pendingBytes + (this.#upstream?.bufferedAmount ?? 0)
  }

  get isClientPaused(): boolean {
    return this.#client.isPaused
  }

  /** A message from the client. */
  receive(bytes: Uint8Array, isBinary: boolean): void {
    // #guard inlined: no closure per message on the hot path.
    try {
      this.#receive(bytes, isBinary)
    } catch (error) {
      this.#failed(error)
    }
  }

  /** The client answered a ping. */
  pong(): void {
    this.#lastSeen = Date.now()
    this.#pingSentAt = undefined
  }

  /**
   * The client's WebSocket reported an error. The runtime closes it on its own (ws: 1009 too big, 1002
   * protocol), and the close follows; this only records it.
   */
  clientError(error: unknown): void {
    safely(() =>
      this.#deps.logger.log('debug', 'websocket error', { session: this.info.id, error: messageOf(error) }),
    )
  }

  /** The client's connection closed or failed: drop the upstream. */
  clientGone(): void {
    this.#guard(() => this.#teardown())
  }

  /**
   * Liveness, called every {@link livenessTick} (Node: one sweep for all sessions; a Worker: a timer per
   * session). Closes a client not heard from for `idleTimeout` with 1001, terminates one that left a ping
   * unanswered for `pingInterval`, and pings the rest.
   */
  tick(now = Date.now()): void {
    this.#guard(() => this.#tick(now))
  }

  /** Closes the WebSocket with `code` and drops the upstream. Never throws. */
  close(code: number, reason: string): void {
    if (this.#state === 'closed') return
    const { logger, metrics } = this.#deps
    safely(() => logger.log('info', 'session closing', { session: this.info.id, code, reason }))
    metrics.closed(code)
    if (code === CloseCode.policy) metrics.deny(POLICY_CLOSE_CATEGORY[reason] ?? 'protocol')
    safely(() => this.#client.close(code, reason))
    this.#teardown()
    // A paused client (backpressure) would never read the answering close frame, and the close would then
    // wait for the runtime's close timeout while the client's close() hangs.
    if (this.#client.isPaused) safely(() => this.#client.resume())
  }

  #tick(now: number) {
    if (this.#state === 'closed') return
    const client = this.#client
    const { config } = this.#deps
    if (client.isPaused) {
      // We stopped reading it: its pongs and messages wait unread behind the bytes it already sent. It is
      // alive while what we send it is written out; a backlog that nothing drains means it reads nothing.
      this.#pingSentAt = undefined
      const backlog = this.bufferedToClient
      const written = this.#sentToClient - backlog
      if (backlog === 0 || written > this.#writtenAtTick) this.#lastSeen = now
      this.#writtenAtTick = written
      if (now - this.#lastSeen >= config.idleTimeout) {
        this.#deps.logger.log('info', 'peer stopped reading, terminating', { session: this.info.id })
        safely(() => client.terminate())
        this.#teardown()
      }
      return
    }
    if (now - this.#lastSeen >= config.idleTimeout) {
      return this.close(CloseCode.goingAway, CloseReason.idle)
    }
    if (!client.canPing) return
    if (this.#pingSentAt === undefined) {
      this.#pingSentAt = now
      return client.ping()
    }
    if (now - this.#pingSentAt >= config.pingInterval - livenessTick(config) / 2) {
      this.#deps.logger.log('info', 'peer missed a ping, terminating', { session: this.info.id })
      safely(() => client.terminate())
      this.#teardown()
    }
  }

  #receive(bytes: Uint8Array, isBinary: boolean) {
    if (this.#state === 'closed') return
    if (!isBinary) return this.close(CloseCode.unsupportedData, CloseReason.textFrame)
    const { config, metrics } = this.#deps
    if (bytes.length > config.maxPayload) return this.close(CloseCode.tooBig, CloseReason.tooBig)
    this.pong()
    metrics.bytesToUpstream += bytes.length
    if (this.#state === 'open') {
      this.#writeUpstream(bytes)
      return
    }
    this.#pending.push(bytes)
    this.#pendingBytes += bytes.length
    if (this.#pendingBytes > config.highWaterMark) this.#holdClient()
    if (this.#state === 'startup') this.#classify()
  }

  /** The upstream is behind: stop reading the client, or bound what a client that cannot pause may send. */
  #holdClient() {
    if (this.#state === 'closed') return
    const client = this.#client
    if (client.canPause) {
      if (!client.isPaused) client.pause()
    } else if (this.bufferedToUpstream > MAX_HELD_UNPAUSABLE) {
      this.close(CloseCode.tooBig, CloseReason.tooBig)
    }
  }

  #classify() {
    const packet = classifyFirstPacket(firstBytes(this.#pending, Math.min(this.#pendingBytes, 8)))
    if (packet.kind === 'incomplete') return
    if (packet.kind === 'invalid') {
      this.#deps.logger.log('info', 'first packet is not PostgreSQL', {
        session: this.info.id,
        why: packet.reason,
      })
      return this.close(CloseCode.policy, CloseReason.denied)
    }
    this.#state = 'dialing'
    clearTimeout(this.#startupTimer)
    this.#startupTimer = undefined
    void this.#dial()
  }

  async #dial() {
    const { openUpstream, config, metrics, logger } = this.#deps
    const started = performance.now()
    let upstream: UpstreamEnd
    try {
      upstream = await openUpstream(this.info.dial, config.connectTimeout)
    } catch (error) {
      metrics.dialFailures++
      safely(() =>
        logger.log('warn', 'upstream unavailable', {
          session: this.info.id,
          target: this.info.target,
          error: messageOf(error),
        }),
      )
      return this.close(CloseCode.upstreamUnavailable, CloseReason.upstreamUnavailable)
    }
    this.#guard(() => {
      metrics.dialed((performance.now() - started) / 1000)
      if (this.#state === 'closed') return upstream.close()
      this.#upstream = upstream
      this.#state = 'open'
      upstream.start({
        data: (chunk, written) => {
          // #guard inlined: no closure per chunk on the hot path.
          try {
            this.#toClient(chunk, written)
          } catch (error) {
            this.#failed(error)
          }
        },
        drain: () =>
          this.#guard(() => {
            if (this.#client.isPaused && this.#state === 'open') this.#client.resume()
          }),
        end: () => this.close(CloseCode.normal, CloseReason.upstreamClosed),
        error: (error) => {
          safely(() =>
            logger.log('info', 'upstream error', { session: this.info.id, error: messageOf(error) }),
          )
          this.close(CloseCode.upstreamUnavailable, CloseReason.upstreamClosed)
        },
      })
      const pending = this.#pending
      this.#pending = []
      this.#pendingBytes = 0
      let isDrainOwed = false
      for (const chunk of pending) if (!this.#writeUpstream(chunk)) isDrainOwed = true
      // Pending bytes past the high-water mark paused the client; when the socket took them all without
      // asking to wait, no 'drain' will come to resume it.
      if (!isDrainOwed && this.#client.isPaused) this.#client.resume()
    })
  }

  /** Writes to the upstream; false when it asked to wait (the client is then held until 'drain'). */
  #writeUpstream(bytes: Uint8Array): boolean {
    if (this.#state !== 'open') return true
    if (this.#upstream!.write(bytes)) return true
    this.#holdClient()
    return false
  }

  /** Sends a chunk from PostgreSQL; `written` (a lent chunk's) runs once the client end is done with it. */
  #toClient(chunk: Uint8Array, written: (() => void) | undefined) {
    if (this.#state !== 'open') return written?.()
    this.#deps.metrics.bytesToClient += chunk.length
    this.#sentToClient += chunk.length
    const client = this.#client
    if (!client.canPing) this.#lastSeen = Date.now()
    const buffered = client.bufferedAmount
    // A write callback per frame costs a closure and a tick on the hot path; only frames sent while the
    // upstream is paused need one. The callback of the last such frame runs once everything before it is
    // written, so one of them always sees the buffer drained and resumes.
    if (
      buffered === undefined ||
      (!this.#isUpstreamPaused && buffered + chunk.length <= this.#deps.config.highWaterMark)
    ) {
      client.send(chunk, written)
      return
    }
    if (!this.#isUpstreamPaused) {
      this.#isUpstreamPaused = true
      this.#upstream?.pause()
    }
    this.#maybeResumeUpstream ??= () => this.#resumeUpstreamIfDrained()
    const resume = this.#maybeResumeUpstream
    client.send(
      chunk,
      written
        ? () => {
            written()
            resume()
          }
        : resume,
    )
  }

  /** The write callback of frames sent while the upstream is paused; made on first need (most never do). */
  #maybeResumeUpstream: (() => void) | undefined

  #resumeUpstreamIfDrained() {
    this.#guard(() => {
      if (
        this.#state === 'open' &&
        this.#isUpstreamPaused &&
        (this.#client.bufferedAmount ?? 0) <= this.#deps.config.highWaterMark / 2
      ) {
        this.#isUpstreamPaused = false
        this.#upstream?.resume()
      }
    })
  }

  #teardown() {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    clearTimeout(this.#startupTimer)
    clearTimeout(this.#lifetimeTimer)
    this.#startupTimer = undefined
    this.#lifetimeTimer = undefined
    this.#pending = []
    this.#pendingBytes = 0
    const upstream = this.#upstream
    if (upstream) safely(() => upstream.close())
    this.#deps.metrics.openSessions--
    safely(() => this.info.onClose())
  }

  /** Whether the client's connection is fully closed (true when the runtime cannot tell). */
  get isClientClosed(): boolean {
    return this.#client.isClosed ?? true
  }

  /** Drops the client's connection at once (a relay shutting down past its grace). */
  terminateClient(): void {
    safely(() => this.#client.terminate())
  }

  /** Runs an entry point; a throw is a relay bug, logged, and ends this session only (1011). */
  #guard(run: () => void) {
    try {
      run()
    } catch (error) {
      this.#failed(error)
    }
  }

  /** A handler threw: a relay bug, logged, and this session only ends (1011). */
  #failed(error: unknown) {
    safely(() =>
      this.#deps.logger.log('error', 'session handler failed', {
        session: this.info.id,
        error: messageOf(error),
      }),
    )
    if (this.#state !== 'closed') {
      try {
        this.close(CloseCode.upstreamUnavailable, CloseReason.internalError)
      } catch {
        // close() catches everything it calls; nothing is left to do.
      }
    }
  }
}
