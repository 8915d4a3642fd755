/**
 * The wire inspector's sequence diagram: the client's and the server's lifelines, one arrow per run of
 * messages, grouped in flights (what one side sent in one burst, see `sequence-model.ts`), with each
 * flight's time on the left and on the right what it means (queries pipelined in it, the round trip it
 * answers and how long that took). Flights are stacked in order, not drawn to scale: a 10-second pause and a
 * 1-millisecond one take the same room, and the times say which is which.
 *
 * SVG built with createElementNS, text as text nodes, colours from classes (styles/sequence.css). Drawn at
 * most every {@link FLUSH_MS}, only while visible, and only the flights that changed since the last drawing
 * (the model only ever grows its last flight and drops its first).
 */
import { type Arrow, arrowLabel, type Flight, isUnsolicited, SequenceModel } from './sequence-model.ts'
import type { WireMessage } from './wire.ts'

const FLUSH_MS = 100
const SVG = 'http://www.w3.org/2000/svg'

/** Geometry, in px: the time axis, then the client's and the server's lifelines with the arrows between. */
const MIN_WIDTH = 300
const MAX_WIDTH = 760
const AXIS = 50
const MARGIN = 14
const HEADS = 24
const STEP = 22
const SLANT = 7
const PAD = 6
const GAP = 8
const NOTE_LINE = 14
/** Width of one character of the diagram's 11 px monospace font, for wrapping a flight's notes. */
const CHAR = 6.7

/** Where the lifelines are for one width. */
interface Geometry {
  width: number
  client: number
  server: number
}

interface Drawn {
  group: SVGGElement
  count: number
  height: number
  y: number
}

/** Draws a connection's messages as a sequence diagram; `add` every decoded message, `clear` on reconnect. */
export class SequenceDiagram {
  readonly #model = new SequenceModel()
  readonly #summary: HTMLElement
  readonly #scroller: HTMLElement
  readonly #heads: SVGSVGElement
  readonly #svg: SVGSVGElement
  readonly #lifelines: SVGGElement
  readonly #flights: SVGGElement
  readonly #drawn = new Map<Flight, Drawn>()
  #geometry: Geometry | undefined
  #drawnVersion = -1
  #isFlushScheduled = false
  #lastFlush = 0

  constructor(container: HTMLElement) {
    this.#summary = html('p', 'sequence-summary')
    this.#scroller = html('div', 'sequence-scroll')
    this.#heads = svg('svg', 'sequence-heads')
    this.#heads.setAttribute('aria-hidden', 'true')
    this.#svg = svg('svg', 'sequence-svg')
    this.#svg.setAttribute('role', 'img')
    this.#svg.setAttribute('aria-label', 'sequence diagram of the protocol messages')
    this.#lifelines = svg('g', 'lifelines')
    this.#flights = svg('g', 'flights')
    this.#svg.append(this.#lifelines, this.#flights)
    this.#scroller.append(this.#svg)
    container.replaceChildren(this.#summary, this.#heads, this.#scroller)
    this.#showSummary()
    // Shown again (its tab selected) or resized: draw what came while hidden, or lay out for the new width.
    new ResizeObserver(() => this.#schedule()).observe(container)
  }

  add(message: WireMessage): void {
    this.#model.add(message)
    this.#schedule()
  }

  clear(): void {
    this.#model.clear()
    this.#schedule()
  }

  #schedule() {
    if (this.#isFlushScheduled) return
    this.#isFlushScheduled = true
    setTimeout(() => this.#flush(), Math.max(0, this.#lastFlush + FLUSH_MS - performance.now()))
  }

  #flush() {
    this.#isFlushScheduled = false
    const width = this.#scroller.clientWidth
    if (width === 0) return // hidden: the ResizeObserver calls again once it shows
    this.#lastFlush = performance.now()
    const geometry = geometryFor(width)
    const isNewLayout = this.#geometry?.width !== geometry.width
    if (!isNewLayout && this.#drawnVersion === this.#model.version) return
    const scroller = this.#scroller
    const isFollowing = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4
    if (isNewLayout) {
      this.#geometry = geometry
      this.#drawn.clear()
      this.#flights.replaceChildren()
      drawHeads(this.#heads, geometry)
    }
    const height = this.#drawFlights(geometry)
    this.#svg.setAttribute('width', String(geometry.width))
    this.#svg.setAttribute('height', String(height))
    this.#svg.setAttribute('viewBox', `0 0 ${geometry.width} ${height}`)
    drawLifelines(this.#lifelines, geometry, height)
    this.#drawnVersion = this.#model.version
    this.#showSummary()
    if (isFollowing) scroller.scrollTop = scroller.scrollHeight
  }

  /** Draws the flights that changed, moves the others into place; returns the drawing's height. */
  #drawFlights(geometry: Geometry): number {
    const flights = this.#model.flights
    const kept = new Set(flights)
    for (const [flight, drawn] of this.#drawn) {
      if (kept.has(flight)) continue
      drawn.group.remove()
      this.#drawn.delete(flight)
    }
    let y = GAP
    for (const flight of flights) {
      let drawn = this.#drawn.get(flight)
      if (drawn?.count !== flight.count) {
        const { group, height } = flightGroup(flight, geometry)
        if (drawn) drawn.group.replaceWith(group)
        else this.#flights.append(group)
        drawn = { group, count: flight.count, height, y: Number.NaN }
        this.#drawn.set(flight, drawn)
      }
      if (drawn.y !== y) {
        drawn.group.setAttribute('transform', `translate(0 ${y})`)
        drawn.y = y
      }
      y += drawn.height + GAP
    }
    return y
  }

  #showSummary() {
    const model = this.#model
    if (model.messages === 0) {
      this.#summary.textContent = 'no messages yet: connect, then run a query'
      return
    }
    const flights = model.dropped + model.flights.length
    const dropped = model.dropped > 0 ? ` · the oldest ${model.dropped} flights not shown` : ''
    this.#summary.textContent =
      `${plural(model.roundTrips, 'round trip')} · ${plural(model.messages, 'message')} ` +
      `in ${plural(flights, 'flight')}${dropped}`
  }
}

function geometryFor(available: number): Geometry {
  const width = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.floor(available)))
  return { width, client: AXIS + MARGIN, server: width - MARGIN }
}

function drawHeads(heads: SVGSVGElement, geometry: Geometry) {
  heads.setAttribute('width', String(geometry.width))
  heads.setAttribute('height', String(HEADS))
  heads.setAttribute('viewBox', `0 0 ${geometry.width} ${HEADS}`)
  heads.replaceChildren(
    text('axis-head', AXIS - 6, HEADS - 8, 'ms'),
    text('head client', geometry.client, HEADS - 8, 'client'),
    text('head server', geometry.server, HEADS - 8, 'server'),
  )
}

function drawLifelines(group: SVGGElement, geometry: Geometry, height: number) {
  group.replaceChildren(
    line('axis', AXIS, 0, AXIS, height),
    line('lifeline client', geometry.client, 0, geometry.client, height),
    line('lifeline server', geometry.server, 0, geometry.server, height),
  )
}

/** One flight: its box, its time, its notes on top, an arrow per run, and what was not drawn. */
function flightGroup(flight: Flight, geometry: Geometry): { group: SVGGElement; height: number } {
  const group = svg('g', `flight ${flight.direction}`)
  if (flight.queries > 1) group.classList.add('pipelined')
  group.dataset.number = String(flight.number)
  group.dataset.queries = String(flight.queries)
  if (flight.roundTrip !== undefined) group.dataset.roundTrip = String(flight.roundTrip)
  const inner = geometry.server - geometry.client
  const noteLines = wrap(flightNotes(flight), Math.max(8, Math.floor((inner - 12) / CHAR)))
  const top = PAD + noteLines.length * NOTE_LINE + 6
  const rows = flight.arrows.length + (flight.omitted > 0 ? 1 : 0)
  const height = top + rows * STEP
  const box = svg('rect', 'flight-box')
  box.setAttribute('x', String(geometry.client))
  box.setAttribute('y', '0')
  box.setAttribute('width', String(inner))
  box.setAttribute('height', String(height))
  box.setAttribute('rx', '4')
  group.append(box, text('time', AXIS - 6, PAD + 9, flight.at.toFixed(1)))
  noteLines.forEach((parts, i) => {
    const note = text('note', geometry.client + 6, PAD + 9 + i * NOTE_LINE, '')
    parts.forEach((part, j) => {
      const span = svg('tspan', 'note-part')
      span.append(part)
      note.append(...(j > 0 ? [' · '] : []), span)
    })
    group.append(note)
  })
  group.append(...flight.arrows.map((arrow, i) => arrowGroup(flight, arrow, geometry, top + 10 + i * STEP)))
  if (flight.omitted > 0) {
    const y = top + 10 + flight.arrows.length * STEP
    const omitted = `… ${plural(flight.omitted, 'more message')}`
    group.append(text('omitted', geometry.client + inner / 2, y, omitted))
  }
  return { group, height }
}

/** Notes on lines of at most `width` characters (a note longer than that gets a line of its own). */
function wrap(notes: string[], width: number): string[][] {
  const lines: string[][] = []
  let length = 0
  for (const note of notes) {
    const line = lines.at(-1)
    if (line && length + 3 + note.length <= width) {
      line.push(note)
      length += 3 + note.length
    } else {
      lines.push([note])
      length = note.length
    }
  }
  return lines
}

function arrowGroup(flight: Flight, arrow: Arrow, geometry: Geometry, y: number): SVGGElement {
  const group = svg('g', `arrow ${flight.direction}`)
  if (arrow.isBad) group.classList.add('bad')
  group.dataset.type = arrow.type
  group.dataset.count = String(arrow.count)
  const isToServer = flight.direction === 'frontend'
  const from = isToServer ? geometry.client : geometry.server
  const to = isToServer ? geometry.server : geometry.client
  const tip = to + (isToServer ? -1 : 1)
  const back = isToServer ? -8 : 8
  const head = svg('path', 'arrow-head')
  head.setAttribute(
    'd',
    `M ${tip} ${y + SLANT} L ${tip + back} ${y + SLANT - 4} L ${tip + back} ${y + SLANT + 4} Z`,
  )
  const title = svg('title', '')
  const detail = arrow.detail === '' ? '' : `\n${arrow.detail}`
  const span =
    arrow.lastAt > arrow.at ? `${arrow.at.toFixed(1)}–${arrow.lastAt.toFixed(1)}` : arrow.at.toFixed(1)
  title.append(`${arrowLabel(arrow)} · ${plural(arrow.bytes, 'byte')} · ${span} ms${detail}`)
  group.append(
    title,
    line('shaft', from, y, tip + back / 2, y + SLANT),
    head,
    text('label', (geometry.client + geometry.server) / 2, y - 2, arrowLabel(arrow)),
  )
  return group
}

/** What a flight means, one short line each. */
function flightNotes(flight: Flight): string[] {
  const notes: string[] = []
  if (flight.direction === 'frontend') {
    notes.push(`flight ${flight.number}`)
    if (flight.queries > 1) notes.push(`${flight.queries} queries in one flight`)
    else if (flight.queries === 1) notes.push('1 query')
  } else if (flight.roundTrip !== undefined) {
    notes.push(`round trip ${flight.roundTrip}`, `answered in ${flight.latency!.toFixed(1)} ms`)
  } else if (flight.arrows.every((arrow) => isUnsolicited(arrow.type))) notes.push('unprompted')
  else notes.push('more of the answer')
  if (flight.lastAt - flight.at >= 1) notes.push(`over ${(flight.lastAt - flight.at).toFixed(1)} ms`)
  if (flight.dataRows > 0) notes.push(plural(flight.dataRows, 'row'))
  return notes
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`

function html<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  element.className = className
  return element
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, className: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag)
  if (className !== '') element.setAttribute('class', className)
  return element
}

function line(className: string, x1: number, y1: number, x2: number, y2: number): SVGLineElement {
  const element = svg('line', className)
  element.setAttribute('x1', String(x1))
  element.setAttribute('y1', String(y1))
  element.setAttribute('x2', String(x2))
  element.setAttribute('y2', String(y2))
  return element
}

function text(className: string, x: number, y: number, content: string): SVGTextElement {
  const element = svg('text', className)
  element.setAttribute('x', String(x))
  element.setAttribute('y', String(y))
  element.append(content)
  return element
}
