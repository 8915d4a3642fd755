/**
 * The contract between the edgepg client and the relay, imported by both sides: the relay URL, parameters,
 * close codes, limits and startup-packet classification. Zero dependencies.
 */
export {
  CLIENT_MAX_FRAME,
  CloseCode,
  type CloseCodeName,
  CloseReason,
  DEFAULT_MAX_PAYLOAD,
  RELAY_PATH,
  RelayParam,
  TOKEN_SUBPROTOCOL_PREFIX,
} from './relay.ts'
export {
  classifyFirstPacket,
  type FirstPacket,
  MAX_STARTUP_LENGTH,
  readInt32,
  StartupCode,
} from './startup-packet.ts'
