/**
 * Light and dark themes: `data-theme` on the root element selects the CSS variables (style.css). The first
 * visit follows the system's `prefers-color-scheme` (and keeps following it); a click on the toggle button
 * picks one, kept in `localStorage`.
 */

/** A theme the page can show. */
export type Theme = 'light' | 'dark'

const KEY = 'edgepg.playground.theme'

/** The theme chosen earlier, or `undefined` when none was (or the stored value is not a theme). */
export function storedTheme(storage: Storage): Theme | undefined {
  const value = storage.getItem(KEY)
  return value === 'light' || value === 'dark' ? value : undefined
}

/**
 * Shows the stored theme (or the system's), wires `button` to switch and keep the choice, and calls
 * `onChange` with every theme shown, the first one included.
 */
export function mountTheme(button: HTMLButtonElement, onChange: (theme: Theme) => void): void {
  const system = matchMedia('(prefers-color-scheme: dark)')
  const show = (theme: Theme) => {
    document.documentElement.dataset.theme = theme
    const other = theme === 'dark' ? 'light' : 'dark'
    button.textContent = other
    button.setAttribute('aria-label', `switch to the ${other} theme`)
    onChange(theme)
  }
  const systemTheme = (): Theme => (system.matches ? 'dark' : 'light')
  show(storedTheme(localStorage) ?? systemTheme())
  system.addEventListener('change', () => {
    if (storedTheme(localStorage) === undefined) show(systemTheme())
  })
  button.addEventListener('click', () => {
    const next: Theme = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'
    localStorage.setItem(KEY, next)
    show(next)
  })
}
