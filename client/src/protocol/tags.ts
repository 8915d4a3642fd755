/**
 * Message type bytes of the PostgreSQL wire protocol (protocol 3.0 and 3.2), as documented in "Message Formats".
 * The same letter means different messages in each direction, hence two tables.
 */

/** Type bytes of the messages the server sends. */
export const BackendTag = {
  Authentication: 0x52, // R
  BackendKeyData: 0x4b, // K
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  CommandComplete: 0x43, // C
  CopyBothResponse: 0x57, // W
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  DataRow: 0x44, // D
  EmptyQueryResponse: 0x49, // I
  ErrorResponse: 0x45, // E
  FunctionCallResponse: 0x56, // V (not supported: edgepg never sends FunctionCall)
  NegotiateProtocolVersion: 0x76, // v
  NoData: 0x6e, // n
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  ParameterDescription: 0x74, // t
  ParameterStatus: 0x53, // S
  ParseComplete: 0x31, // 1
  PortalSuspended: 0x73, // s
  ReadyForQuery: 0x5a, // Z
  RowDescription: 0x54, // T
} as const

/** Type bytes of the messages the client sends. Startup, SSLRequest and CancelRequest have none. */
export const FrontendTag = {
  Bind: 0x42, // B
  Close: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
  Describe: 0x44, // D
  Execute: 0x45, // E
  Flush: 0x48, // H
  Parse: 0x50, // P
  /** PasswordMessage, SASLInitialResponse and SASLResponse share this byte. */
  PasswordMessage: 0x70, // p
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const

/** Request codes sent in place of a protocol version in an untagged first message. */
export const RequestCode = {
  CancelRequest: 80877102, // 1234 << 16 | 5678
  SSLRequest: 80877103, // 1234 << 16 | 5679
} as const

/** Authentication request codes (the int32 after the `R` tag). */
export const AuthCode = {
  Ok: 0,
  KerberosV5: 2,
  CleartextPassword: 3,
  MD5Password: 5,
  SCMCredential: 6,
  GSS: 7,
  GSSContinue: 8,
  SSPI: 9,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const

/**
 * Message types that may exceed 30000 bytes. libpq treats any other message announcing more as a sign that
 * the stream is out of sync, and so do we (`VALID_LONG_MESSAGE_TYPE` in fe-protocol3.c), with two more types
 * the server really sends that long: ParameterDescription (4 bytes per parameter, up to 65,535 of them:
 * 262,146 bytes) and ParameterStatus (a `search_path` or other reported setting of any length).
 */
export const LONG_MESSAGE_LIMIT = 30000

/** True for the type bytes libpq allows to be longer than {@link LONG_MESSAGE_LIMIT}. */
export function isLongMessageTag(tag: number): boolean {
  return (
    tag === BackendTag.DataRow ||
    tag === BackendTag.CopyData ||
    tag === BackendTag.RowDescription ||
    tag === BackendTag.FunctionCallResponse ||
    tag === BackendTag.ErrorResponse ||
    tag === BackendTag.NoticeResponse ||
    tag === BackendTag.NotificationResponse ||
    tag === BackendTag.ParameterDescription ||
    tag === BackendTag.ParameterStatus
  )
}

/** Describes a type byte for error messages: `'Z' (0x5a)`, or `0x05` when not printable. */
export function describeTag(tag: number): string {
  const hex = `0x${tag.toString(16).padStart(2, '0')}`
  return tag >= 0x21 && tag <= 0x7e ? `'${String.fromCharCode(tag)}' (${hex})` : hex
}
