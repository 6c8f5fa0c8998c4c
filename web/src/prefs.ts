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
}

/** Applies the remembered theme at start. */
export function applyTheme(): void {
  document.documentElement.dataset.theme = currentTheme();
}

/** A colour of the theme (a CSS custom property of :root). */
export function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
