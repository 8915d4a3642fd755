/**
 * Structured logs, one JSON object per line. Callers pass fields, never raw URLs, headers or bytes: tokens
 * travel in the query string or a subprotocol, passwords in the startup packet, and neither may reach a log.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, string | number | boolean | undefined>

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** A logger writing JSON lines to `write` (default: stdout), dropping levels below `level`. */
export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => console.log(l),
): Logger {
  return {
    log(at, message, fields = {}) {
      if (ORDER[at] < ORDER[level]) return
      write(JSON.stringify({ time: new Date().toISOString(), level: at, msg: message, ...fields }))
    },
  }
}

/** A logger that discards everything. */
export const silentLogger: Logger = { log() {} }
