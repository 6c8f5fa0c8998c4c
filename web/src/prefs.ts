/** Light/dark theme, remembered in localStorage; the default follows the system. */
export type Theme = 'light' | 'dark';

export function currentTheme(): Theme {
  const saved = localStorage.getItem('smokemesh.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function setTheme(theme: Theme): void {
  localStorage.setItem('smokemesh.theme', theme);
  document.documentElement.dataset.theme = theme;
  colors.clear();
}

/** Applies the remembered theme at start. */
export function applyTheme(): void {
  document.documentElement.dataset.theme = currentTheme();
}

const colors = new Map<string, string>();

/**
 * A colour of the theme (a CSS custom property of :root). Cached until the theme changes:
 * getComputedStyle while graphs are being added would recompute the page's style each time.
 */
export function themeColor(name: string): string {
  let c = colors.get(name);
  if (c === undefined) colors.set(name, (c = getComputedStyle(document.documentElement).getPropertyValue(name).trim()));
  return c;
}
