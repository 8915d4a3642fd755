/**
 * The schema browser: reads the catalog over the session (see `catalog.ts`) when it connects, after every run
 * (the run may have been DDL) and on the refresh button; draws schema → tables and views (with row estimates)
 * → columns and indexes; fills `context.schema` for the editor's completion; a click on a table drafts
 * `select * from … limit 100`. Everything goes into the DOM as text nodes.
 */
import { isDatabaseError } from '@edgepg/client'
import type { Context, Session } from './app.ts'
import {
  type Catalog,
  type CatalogRelation,
  type CatalogSchema,
  completionOf,
  mayChangeCatalog,
  readCatalog,
  selectStatement,
} from './catalog.ts'
import { tag } from './dom.ts'

/**
 * Mounts the schema browser into `container` (`#schema`) and wires `#schema-refresh`. Reads never overlap:
 * a reload asked for while one runs happens once, after it. A failed read shows its error in the panel.
 */
export function mountSchema(container: HTMLElement, context: Context): void {
  const browser = new SchemaBrowser(container, context)
  // A connect made by Run: the run's end bumps `runs` and reloads then, after the user's query.
  context.session.subscribe(() => {
    if (!context.running.value) browser.reload()
  })
  context.runs.subscribe(() => {
    if (browser.isStale || mayChangeCatalog(context.lastRun.value)) browser.reload()
  })
  document.getElementById('schema-refresh')?.addEventListener('click', () => browser.reload())
  browser.reload()
}

class SchemaBrowser {
  readonly #container: HTMLElement
  readonly #context: Context
  #reading: Session | undefined
  /** The session the tree was last read over (or is being read over). */
  #readFor: Session | undefined
  #isAskedAgain = false
  #hasTree = false
  /** A reload was skipped for an open transaction: the first run after it reads again. */
  #isPaused = false
  /** A reload was asked for while the editor's run was in flight: its end reads. */
  #isWaitingForRun = false

  /** The tree is not this session's catalog: never read for it yet, or a read was paused. */
  get isStale(): boolean {
    return this.#isPaused || this.#isWaitingForRun || this.#readFor !== this.#context.session.value
  }
  /** Schemas the user closed and tables the user opened, kept across reloads (JSON of [schema, table?]). */
  readonly #closedSchemas = new Set<string>()
  readonly #openTables = new Set<string>()

  constructor(container: HTMLElement, context: Context) {
    this.#container = container
    this.#context = context
  }

  /** Reads the catalog again (once more after the current read, when one runs). */
  reload(): void {
    const session = this.#context.session.value
    if (session === undefined) {
      this.#hasTree = false
      this.#status('not connected')
      if (Object.keys(this.#context.schema.value).length > 0) this.#context.schema.set({})
      return
    }
    if (this.#reading !== undefined) {
      this.#isAskedAgain = true
      return
    }
    // While the editor's run is in flight its transaction state is not known yet (a `begin` in it): the run's
    // end bumps `runs`, which reads then.
    if (this.#context.running.value) {
      this.#isWaitingForRun = true
      return
    }
    this.#isWaitingForRun = false
    // Inside the editor's transaction a read would take its snapshot (a later SET TRANSACTION then fails) or,
    // once it has failed, fail too: wait for COMMIT or ROLLBACK, which end the run that bumps `runs`.
    if (session.client.transactionStatus !== 'idle') {
      this.#isPaused = true
      this.#note('paused while a transaction is open in the editor: read again after COMMIT or ROLLBACK')
      return
    }
    if (this.#isPaused) {
      this.#isPaused = false
      this.#note(undefined)
    }
    this.#reading = session
    this.#readFor = session
    if (!this.#hasTree) this.#status('reading the catalog…')
    this.#container.setAttribute('aria-busy', 'true')
    void this.#read(session).finally(() => {
      this.#reading = undefined
      this.#container.removeAttribute('aria-busy')
      if (this.#isAskedAgain) {
        this.#isAskedAgain = false
        this.reload()
      }
    })
  }

  async #read(session: Session): Promise<void> {
    let catalog: Catalog
    try {
      // Through aside(): the editor's next run waits for this read, so a Cancel never reaches it instead.
      catalog = await this.#context.aside(() => readCatalog(session.client))
    } catch (error) {
      if (this.#context.session.value !== session) return
      this.#hasTree = false
      const reason = isDatabaseError(error)
        ? `${error.code} ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error)
      this.#status(`could not read the catalog: ${reason}`, 'schema-error')
      return
    }
    if (this.#context.session.value !== session) return
    this.#draw(catalog)
    this.#context.schema.set(completionOf(catalog))
  }

  /** A line above the tree (kept), or none. */
  #note(text: string | undefined): void {
    this.#container.querySelector('.schema-note')?.remove()
    if (text === undefined) return
    if (!this.#hasTree) this.#container.replaceChildren()
    this.#container.prepend(tag('p', { className: 'schema-note' }, text))
  }

  #status(text: string, className = 'schema-status'): void {
    this.#container.replaceChildren(tag('p', { className }, text))
  }

  #draw(catalog: Catalog): void {
    this.#hasTree = true
    if (catalog.schemas.length === 0) {
      this.#status('no schemas of your own')
      return
    }
    const tree = tag('ul', { className: 'schema-tree' })
    for (const schema of catalog.schemas) tree.append(this.#schemaNode(schema))
    this.#container.replaceChildren(tree)
  }

  #schemaNode(schema: CatalogSchema): HTMLElement {
    const key = JSON.stringify([schema.name])
    const count = schema.relationCount
    const details = tag(
      'details',
      { className: 'schema-node', open: !this.#closedSchemas.has(key) },
      tag(
        'summary',
        {},
        tag('span', { className: 'schema-name' }, schema.name),
        tag('span', { className: 'schema-count' }, count === 1 ? '1 relation' : `${count} relations`),
      ),
    )
    details.dataset.schema = schema.name
    details.addEventListener('toggle', () => {
      if (details.open) this.#closedSchemas.delete(key)
      else this.#closedSchemas.add(key)
    })
    const list = tag('ul', { className: 'schema-relations' })
    for (const relation of schema.relations) list.append(this.#relationNode(schema.name, relation))
    details.append(list)
    if (count === 0) details.append(tag('p', { className: 'schema-empty' }, 'no tables or views'))
    if (count > schema.relations.length) {
      details.append(
        tag(
          'p',
          { className: 'schema-more' },
          `and ${count - schema.relations.length} more not shown (the first ${schema.relations.length} by name)`,
        ),
      )
    }
    return tag('li', {}, details)
  }

  #relationNode(schemaName: string, relation: CatalogRelation): HTMLElement {
    const key = JSON.stringify([schemaName, relation.name])
    const sql = selectStatement(schemaName, relation.name)
    const open = tag('button', { type: 'button', className: 'schema-table', title: sql }, relation.name)
    open.addEventListener('click', (event) => {
      event.preventDefault()
      this.#context.draft(sql)
    })
    const summary = tag('summary', {}, open)
    const kind = kindLabel(relation)
    if (kind !== undefined) summary.append(tag('span', { className: 'schema-kind' }, kind))
    const estimate = estimateLabel(relation)
    if (estimate !== undefined) summary.append(tag('span', { className: 'schema-estimate' }, estimate))
    const details = tag('details', { className: 'schema-relation' }, summary)
    details.dataset.schema = schemaName
    details.dataset.table = relation.name
    details.dataset.kind = relation.kind
    // Columns and indexes are drawn when the table is first opened: a big catalog stays a small DOM.
    let isFilled = false
    const fill = () => {
      if (isFilled) return
      isFilled = true
      details.append(columnList(relation), ...(relation.indexes.length > 0 ? [indexList(relation)] : []))
    }
    details.addEventListener('toggle', () => {
      if (details.open) {
        fill()
        this.#openTables.add(key)
      } else {
        this.#openTables.delete(key)
      }
    })
    if (this.#openTables.has(key)) {
      fill()
      details.open = true
    }
    return tag('li', {}, details)
  }
}

function kindLabel(relation: CatalogRelation): string | undefined {
  if (relation.isPartition) return 'partition'
  switch (relation.kind) {
    case 'table':
      return undefined
    case 'view':
      return 'view'
    case 'materialized view':
      return 'mat. view'
    case 'partitioned table':
      return 'partitioned'
    case 'foreign table':
      return 'foreign'
  }
}

/** `~1,200 rows` from `reltuples`; `not analysed` when it is -1; nothing for views. */
function estimateLabel(relation: CatalogRelation): string | undefined {
  if (relation.kind === 'view' || relation.kind === 'foreign table') return undefined
  if (relation.estimate === undefined) return 'not analysed'
  const rows = Math.round(relation.estimate)
  return `~${rows.toLocaleString('en-US')} ${rows === 1 ? 'row' : 'rows'}`
}

function columnList(relation: CatalogRelation): HTMLElement {
  const list = tag('ul', { className: 'schema-columns' })
  for (const column of relation.columns) {
    const item = tag(
      'li',
      { className: 'schema-column' },
      tag('span', { className: 'column-name' }, column.name),
      tag('span', { className: 'column-type' }, column.type),
      tag(
        'span',
        { className: column.isNotNull ? 'column-null not-null' : 'column-null' },
        column.isNotNull ? 'not null' : 'null',
      ),
    )
    if (column.isPrimaryKey) item.append(tag('span', { className: 'column-key', title: 'primary key' }, 'PK'))
    if (column.isIdentity) item.append(tag('span', { className: 'column-extra' }, 'identity'))
    if (column.default !== undefined) {
      const text = column.isGenerated ? `generated ${column.default}` : `default ${column.default}`
      item.append(tag('span', { className: 'column-default', title: text }, text))
    }
    list.append(item)
  }
  if (relation.columns.length === 0) list.append(tag('li', { className: 'schema-empty' }, 'no columns'))
  return list
}

function indexList(relation: CatalogRelation): HTMLElement {
  const list = tag('ul', { className: 'schema-indexes' })
  for (const index of relation.indexes) {
    const flags = [
      index.isPrimary ? 'primary key' : index.isUnique ? 'unique' : '',
      index.isValid ? '' : 'invalid',
    ]
    const item = tag(
      'li',
      { className: 'schema-index', title: index.definition },
      tag('span', { className: 'index-name' }, index.name),
    )
    const flagText = flags.filter((flag) => flag !== '').join(', ')
    if (flagText !== '') item.append(tag('span', { className: 'index-flags' }, flagText))
    item.append(tag('code', { className: 'index-definition' }, index.definition))
    list.append(item)
  }
  return list
}
