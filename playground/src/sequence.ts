/**
 * The wire inspector's sequence diagram (placeholder until it is built): mounts into `#sequence` and gets
 * every decoded message, as the inspector table does.
 */
import type { WireMessage } from './wire.ts'

export class SequenceDiagram {
  readonly #container: HTMLElement

  constructor(container: HTMLElement) {
    this.#container = container
    this.#container.textContent = 'not built yet'
  }

  add(_message: WireMessage): void {}

  clear(): void {}
}
