/** The edgepg relay. The WebSocket → TCP relay itself is being built; this package only reserves its place. */
export { RELAY_PATH } from '@edgepg/shared'
