/**
 * The few workerd globals the relay's Worker entry uses, on top of the WebWorker lib.
 * `@cloudflare/workers-types` is not a dependency (its peer range conflicts with wrangler's).
 * https://developers.cloudflare.com/workers/runtime-apis/websockets/
 */

/** A connected pair of WebSockets: return `0` to the client in a 101 response, keep and `accept()` `1`. */
declare class WebSocketPair {
  0: WebSocket
  1: WebSocket
}

interface WebSocket {
  /** Starts delivering events on a WebSocket from a `WebSocketPair`. */
  accept(): void
}

interface ResponseInit {
  /** The client end of a `WebSocketPair`, for a 101 response. */
  webSocket?: WebSocket | null
}
