/**
 * The PostgreSQL wire-protocol codec: pure functions of bytes, no I/O.
 * `BackendParser` turns received chunks into {@link BackendMessage}s; `FrontendWriter` batches requests.
 */
export { dataRowColumns, parseMessage } from './decode.ts'
export type * from './messages.ts'
export { BackendParser, type BackendParserOptions, DEFAULT_MAX_MESSAGE_SIZE } from './parser.ts'
export { AuthCode, BackendTag, FrontendTag, RequestCode } from './tags.ts'
export { FrontendWriter } from './writer.ts'
