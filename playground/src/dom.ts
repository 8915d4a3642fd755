/**
 * Building the page's elements: everything from the server or the editor goes in as text nodes (children
 * given as strings), never parsed as HTML.
 */

/** `tag('p', { className: 'caption' }, 'SELECT · 1 row')`: an element with properties and children. */
export function tag<K extends keyof HTMLElementTagNameMap>(
  name: K,
  properties: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = Object.assign(document.createElement(name), properties)
  element.append(...children)
  return element
}
