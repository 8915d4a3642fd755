/**
 * The contract between the edgepg client and the relay, imported by both sides. The relay's URL, parameters,
 * close codes and limits are defined here once.
 */

/** Path of the relay's WebSocket endpoint (Neon wsproxy's convention: `/v1?address=host:port`). */
export const RELAY_PATH = '/v1'
