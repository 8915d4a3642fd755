/**
 * The SQL editor: CodeMirror 6 with PostgreSQL highlighting, completion of keywords and of the connected
 * database's schemas, tables and columns, and the run keys (Ctrl/⌘+Enter: everything; Shift+Enter: the
 * statement under the cursor).
 *
 * The editor lives in a shadow root of its host element. CodeMirror injects its styles at run time; in a
 * document it does so with a `<style>` element, which the page's CSP (`style-src 'self'`, no nonce) refuses;
 * in a shadow root it uses a constructed stylesheet (`adoptedStyleSheets`), which CSP does not govern. Colours
 * of the frame come from the page's CSS variables, which inherit into the shadow root; the syntax colours
 * switch with the theme through a compartment.
 */
import { closeCompletion } from '@codemirror/autocomplete'
import { PostgreSQL, sql } from '@codemirror/lang-sql'
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language'
import { Compartment, EditorState, type Extension, Prec } from '@codemirror/state'
import { oneDarkHighlightStyle } from '@codemirror/theme-one-dark'
import { EditorView, keymap } from '@codemirror/view'
import type { SchemaCompletion } from './app.ts'
import { editorSetup } from './editor-setup.ts'
import type { Span } from './statements.ts'

/** What the editor calls back for its run keys. */
export interface EditorActions {
  /** Ctrl/⌘+Enter. */
  runAll(): void
  /** Shift+Enter. */
  runStatement(): void
}

/**
 * PostgreSQL highlighting and completion: keywords (lower-case), and the schemas, tables and columns of
 * `schema` (tables of `public` also without their schema).
 */
export function sqlLanguage(schema: SchemaCompletion): Extension {
  return sql({ dialect: PostgreSQL, schema, defaultSchema: 'public', upperCaseKeywords: false })
}

const selection = 'color-mix(in srgb, var(--accent) 28%, transparent)'

/** The editor's frame, gutters, selection and completion list, in the page's variables. */
const frame = EditorView.theme({
  '&': { height: '100%', backgroundColor: 'var(--panel)', color: 'var(--text)', fontSize: '13px' },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '-1px' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
  '.cm-content': { caretColor: 'var(--text)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--text)' },
  '.cm-gutters': {
    backgroundColor: 'var(--bg)',
    color: 'var(--muted)',
    borderRight: '1px solid var(--line)',
  },
  '.cm-activeLine': { backgroundColor: 'color-mix(in srgb, var(--accent) 6%, transparent)' },
  '.cm-activeLineGutter': { backgroundColor: 'color-mix(in srgb, var(--accent) 12%, transparent)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection':
    { backgroundColor: selection },
  '.cm-selectionMatch': { backgroundColor: 'color-mix(in srgb, var(--back) 18%, transparent)' },
  '&.cm-focused .cm-matchingBracket': { backgroundColor: 'color-mix(in srgb, var(--back) 25%, transparent)' },
  '.cm-tooltip': { backgroundColor: 'var(--panel)', color: 'var(--text)', border: '1px solid var(--line)' },
  '.cm-tooltip-autocomplete > ul': { fontFamily: 'var(--mono)' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': {
    backgroundColor: 'var(--accent)',
    color: 'var(--panel)',
  },
  '.cm-completionDetail': { color: 'var(--muted)' },
  '.cm-panels': { backgroundColor: 'var(--bg)', color: 'var(--text)' },
})

/**
 * The syntax colours of the theme (CodeMirror's default ones in light, One Dark's in dark) and CodeMirror's
 * own light/dark switch (its base styles for tooltips, panels and the cursor).
 */
const darkness = (dark: boolean): Extension => [
  EditorView.darkTheme.of(dark),
  syntaxHighlighting(dark ? oneDarkHighlightStyle : defaultHighlightStyle),
]

/**
 * Typing over a selection: CodeMirror lets the browser insert typed text into the DOM and reads the change
 * back; over a selection that spans highlighted lines, Chromium's editing re-creates the lost formatting as
 * `style` attributes, which the CSP refuses (a console error per keystroke). Such input is applied as a
 * CodeMirror transaction instead, so the browser never edits the DOM.
 */
const typeOverSelection = EditorView.domEventHandlers({
  beforeinput(event, view) {
    const replaces = event.inputType === 'insertText' || event.inputType === 'insertReplacementText'
    if (!replaces || event.data === null || view.state.selection.ranges.every((range) => range.empty))
      return false
    event.preventDefault()
    view.dispatch(view.state.replaceSelection(event.data), { userEvent: 'input.type', scrollIntoView: true })
    return true
  },
})

/** The playground's SQL editor, mounted into `host` (which gets a shadow root). */
export class SqlEditor {
  readonly #view: EditorView
  readonly #language = new Compartment()
  readonly #theme = new Compartment()

  constructor(host: HTMLElement, text: string, actions: EditorActions, options: { dark: boolean }) {
    const root = host.attachShadow({ mode: 'open' })
    const keys = Prec.highest(
      keymap.of([
        { key: 'Mod-Enter', run: () => call(actions.runAll) },
        { key: 'Ctrl-Enter', run: () => call(actions.runAll) }, // on a Mac too, where Mod is ⌘
        { key: 'Shift-Enter', run: () => call(actions.runStatement) },
      ]),
    )
    const call = (action: () => void) => {
      closeCompletion(this.#view)
      action()
      return true
    }
    this.#view = new EditorView({
      root,
      parent: root,
      state: EditorState.create({
        doc: text,
        extensions: [
          keys,
          typeOverSelection,
          editorSetup,
          this.#language.of(sqlLanguage({})),
          frame,
          this.#theme.of(darkness(options.dark)),
          EditorView.contentAttributes.of({ 'aria-label': 'SQL', spellcheck: 'false' }),
        ],
      }),
    })
  }

  /** The whole text. */
  get text(): string {
    return this.#view.state.doc.toString()
  }

  /** Where the cursor is (the head of the main selection), in UTF-16 code units. */
  get cursor(): number {
    return this.#view.state.selection.main.head
  }

  /** Replaces the whole text (one undoable change) and puts the cursor at its end. */
  setText(text: string): void {
    this.#view.dispatch({
      changes: { from: 0, to: this.#view.state.doc.length, insert: text },
      selection: { anchor: text.length },
      scrollIntoView: true,
    })
  }

  /** Selects `range` (clamped to the text), scrolls it into view and focuses the editor. */
  select(range: Span): void {
    const length = this.#view.state.doc.length
    const clamp = (offset: number) => Math.min(Math.max(0, offset), length)
    this.#view.dispatch({
      selection: { anchor: clamp(range.start), head: clamp(range.end) },
      scrollIntoView: true,
    })
    this.focus()
  }

  focus(): void {
    this.#view.focus()
  }

  /** Completes from `schema` from now on. */
  setSchema(schema: SchemaCompletion): void {
    this.#view.dispatch({ effects: this.#language.reconfigure(sqlLanguage(schema)) })
  }

  /** Switches the syntax colours to the page's theme (the frame's colours come from the page's variables). */
  setDark(dark: boolean): void {
    this.#view.dispatch({ effects: this.#theme.reconfigure(darkness(dark)) })
  }
}
