/**
 * Startup and authentication: StartupMessage, then whatever the server asks for (cleartext, md5, SCRAM),
 * then ParameterStatus and BackendKeyData until the first ReadyForQuery. Runs inside `connect()`, before
 * the connection is handed to the caller.
 */
import {
  type AuthMethod,
  checkAuthMethod,
  md5Password,
  type ScramChannelBinding,
  type ScramSession,
  startScram,
} from './auth/index.ts'
import type { ResolvedConfig } from './config.ts'
import type { ConnectionCore } from './core.ts'
import { authError, closedError, DatabaseError, isPgError, protocolError } from './errors.ts'
import type { BackendMessage } from './protocol/index.ts'

/** Names the authentication request codes PostgreSQL defines but edgepg does not implement. */
const UNSUPPORTED_AUTH: Record<number, string> = {
  2: 'KerberosV5',
  6: 'SCM credentials',
  7: 'GSSAPI',
  8: 'GSSAPI',
  9: 'SSPI',
}

/** The `require_auth` method each unsupported request code stands for. */
const UNSUPPORTED_METHOD: Record<number, AuthMethod> = { 7: 'gss', 8: 'gss', 9: 'sspi' }

/** The session settings the decoders expect unless the configuration chose another accepted one. */
/**
 * Settings the decoders depend on, sent unless `options` sets them. `extra_float_digits = 3` gives exact float
 * text on every server (PostgreSQL 12+ prints the shortest exact form for any value above 0), also where the
 * server's configuration lowers it; it is not reported by the server, so a later `SET` cannot be followed.
 */
const SESSION_DEFAULTS = {
  client_encoding: 'UTF8',
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
}

export interface StartupResult {
  /** The minor protocol version the server agreed to (NegotiateProtocolVersion). */
  protocolMinor: number
}

/** What the startup flow is waiting for; connect timeouts name it. */
export type StartupStage = 'authentication request' | 'authentication result' | 'ready for query'

/**
 * Runs startup on `core`; resolves at the first ReadyForQuery. `onStage` reports progress for errors.
 * `channelBindingData` is the server certificate's tls-server-end-point hash, when the stream is TLS and
 * exposes it. `config.requireAuth` and `config.channelBinding` are checked on every authentication request
 * before anything secret is written.
 */
export function startup(
  core: ConnectionCore,
  config: ResolvedConfig,
  protocolMinor: number,
  onStage: (stage: StartupStage) => void,
  pipeline: boolean | 'scram' = false,
  onAuthSent: () => void = () => {},
  channelBindingData?: Uint8Array,
): Promise<StartupResult> {
  const binding: ScramChannelBinding = { mode: config.channelBinding, data: channelBindingData }
  /** Refuses a method `require_auth` or `channel_binding=require` does not allow. */
  const allow = (method: AuthMethod, requested: string) => {
    checkAuthMethod(config.requireAuth, method, requested)
    if (binding.mode === 'require' && method !== 'scram-sha-256') {
      throw authError(
        `channel_binding=require, but the server ${requested}, which cannot bind to the channel; ` +
          'nothing secret was sent',
      )
    }
  }
  return new Promise((resolve, reject) => {
    let scram: ScramSession | undefined
    /** SCRAM client-first went out with the startup message (`pipelineConnect: 'scram'`). */
    let isScramSent = false
    const authSent = () => {
      if (pipeline) onAuthSent()
    }
    const unexpected = (method: string) => {
      if (isScramSent) {
        throw authError(
          `pipelineConnect: 'scram' sent a SCRAM message with the startup, but the server asked for ${method}: ` +
            'use pipelineConnect: true for this server',
        )
      }
    }
    let isScramVerified = false
    /** A cleartext or md5 password was sent (AuthenticationOk then is not a login without authentication). */
    let isPasswordSent = false
    let verification: Promise<void> = Promise.resolve()
    let minor = protocolMinor

    const password = (method: string): string => {
      if (config.password === undefined) {
        throw authError(`server requested ${method} authentication but no password was given`)
      }
      return config.password
    }
    const asyncStep = (step: Promise<void>) => {
      verification = step.catch((error) => {
        core.fail(isPgError(error) ? error : authError('authentication failed', error))
      })
    }

    const handle = (message: BackendMessage): boolean => {
      switch (message.type) {
        case 'AuthenticationOk':
          unexpected('no password')
          if (!scram && !isPasswordSent) allow('none', 'accepted the login without authentication')
          authSent()
          if (scram && !isScramVerified) {
            throw authError(
              'server accepted the login without proving it knows the password (no SCRAM final message)',
            )
          }
          onStage('ready for query')
          return false
        case 'AuthenticationCleartextPassword': {
          unexpected('a cleartext password')
          allow('password', 'asked for a cleartext password')
          const secret = password('cleartext password')
          isPasswordSent = true
          core.writeNow((w) => w.password(secret))
          authSent()
          onStage('authentication result')
          return false
        }
        case 'AuthenticationMD5Password': {
          unexpected('md5')
          allow('md5', 'asked for an md5 password')
          const secret = md5Password(config.user, password('md5'), message.salt)
          isPasswordSent = true
          core.writeNow((w) => w.password(secret))
          authSent()
          onStage('authentication result')
          return false
        }
        case 'AuthenticationSASL': {
          if (isScramSent && scram) {
            if (!message.mechanisms.includes(scram.mechanism)) {
              throw authError(
                `server offers ${message.mechanisms.join(', ')}, not the ${scram.mechanism} sent with the startup`,
              )
            }
            isScramSent = false
            return false
          }
          if (scram) throw protocolError('server sent AuthenticationSASL twice')
          allow('scram-sha-256', `asked for SASL (${message.mechanisms.join(', ')})`)
          const session = startScram(password('SCRAM-SHA-256'), message.mechanisms, {
            channelBinding: binding,
          })
          scram = session
          core.writeNow((w) => w.saslInitialResponse(session.mechanism, session.clientFirst))
          return false
        }
        case 'AuthenticationSASLContinue': {
          const session = scram
          if (!session)
            throw protocolError('server sent AuthenticationSASLContinue before AuthenticationSASL')
          asyncStep(
            session.continue(message.data).then((bytes) => {
              core.writeNow((w) => w.saslResponse(bytes))
              authSent()
            }),
          )
          onStage('authentication result')
          return false
        }
        case 'AuthenticationSASLFinal': {
          const session = scram
          if (!session) throw protocolError('server sent AuthenticationSASLFinal before AuthenticationSASL')
          // Synchronous: a wrong proof fails the connection before any later message is handled.
          session.verify(message.data)
          isScramVerified = true
          return false
        }
        case 'AuthenticationUnsupported': {
          const method = UNSUPPORTED_METHOD[message.code]
          if (method) allow(method, `asked for ${UNSUPPORTED_AUTH[message.code]} authentication`)
          throw authError(
            `server requested ${UNSUPPORTED_AUTH[message.code] ?? `unknown (code ${message.code})`} authentication, ` +
              'which edgepg does not support: expected SCRAM-SHA-256, md5 or password',
          )
        }
        case 'BackendKeyData':
          core.processId = message.processId
          core.secretKey = message.secretKey
          return false
        case 'NegotiateProtocolVersion':
          if (message.newestMinor > minor) {
            throw protocolError(
              `server offered protocol 3.${message.newestMinor}, newer than the 3.${minor} requested`,
            )
          }
          minor = message.newestMinor
          return false
        case 'ErrorResponse': {
          // Requests pipelined behind the login (pipelineConnect) get the server's error itself.
          const error = new DatabaseError(message.fields)
          reject(error)
          core.fail(error)
          return true
        }
        case 'ReadyForQuery':
          verification.then(() => {
            if (core.state !== 'closed') resolve({ protocolMinor: minor })
            else reject(core.error ?? closedError('connection closed during startup'))
          })
          return true
        default:
          throw protocolError(
            `unexpected ${message.type} during startup: expected authentication or ReadyForQuery`,
          )
      }
    }

    core.expect({
      handle,
      fail(error) {
        reject(error)
        // A FATAL login error arrives here: requests pipelined behind the login get it too, not a bare "closed".
        if (error instanceof DatabaseError) core.fail(error)
      },
    })
    // The server applies the startup packet's settings after `options`: leave out a default that `options`
    // sets itself (config has checked it: UTF8, an ISO DateStyle, any IntervalStyle).
    const parameters: Record<string, string> = { user: config.user, database: config.database }
    for (const [name, value] of Object.entries(SESSION_DEFAULTS)) {
      if (!(name.toLowerCase() in config.sessionSettings)) parameters[name] = value
    }
    Object.assign(parameters, config.parameters)
    if (config.applicationName !== undefined) parameters.application_name = config.applicationName
    if (config.options !== undefined) parameters.options = config.options
    onStage('authentication request')
    if (pipeline === 'scram') {
      // Sent blind, before the server names its mechanisms: bind only when channel_binding=require (a
      // server that supports binding refuses `y,,`, one that does not refuses PLUS; `n,,` passes both).
      const blind = binding.mode === 'require' ? binding : { mode: 'disable' as const }
      const session = startScram(
        password('SCRAM-SHA-256'),
        [binding.mode === 'require' ? 'SCRAM-SHA-256-PLUS' : 'SCRAM-SHA-256'],
        { channelBinding: blind },
      )
      scram = session
      isScramSent = true
      core.writeNow((w) =>
        w.startup(parameters, protocolMinor).saslInitialResponse(session.mechanism, session.clientFirst),
      )
      return
    }
    core.writeNow((w) => w.startup(parameters, protocolMinor))
  })
}
