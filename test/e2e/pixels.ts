import type { Page } from 'playwright-core';

/** Counts, over every canvas matched by `selector`, pixels near each colour ('#rrggbb') and grey smoke pixels. */
export async function canvasColors(page: Page, selector: string, colors: string[]): Promise<{ counts: number[]; grey: number; canvases: number }> {
  return page.evaluate(([sel, cols]) => {
    const want = cols.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
    const counts = want.map(() => 0);
    let grey = 0;
    const canvases = Array.from(document.querySelectorAll(sel)) as HTMLCanvasElement[];
    for (const cv of canvases) {
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      for (let i = 0; i < d.length; i += 4) {
        const r = d[i]!, g = d[i + 1]!, b = d[i + 2]!, a = d[i + 3]!;
        if (a < 250) continue;
        want.forEach((w, k) => {
          if (Math.abs(r - w[0]!) <= 12 && Math.abs(g - w[1]!) <= 12 && Math.abs(b - w[2]!) <= 12) counts[k]!++;
        });
        // Smoke is neutral grey between the background and the ink (not the grid, not text).
        if (Math.abs(r - g) <= 3 && Math.abs(g - b) <= 3 && r >= 40 && r <= 225) grey++;
      }
    }
    return { counts, grey, canvases: canvases.length };
  }, [selector, colors] as const);
}

/**
 * The leftmost canvas column (device pixels) of the first canvas matched by `selector` that
 * holds a pixel far from the background colour: where the leftmost drawing (an axis label) starts.
 */
export async function leftmostInk(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const cv = document.querySelector(sel) as HTMLCanvasElement;
    const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    const bg = getComputedStyle(document.documentElement).getPropertyValue('--bg').trim();
    const n = parseInt(bg.slice(1), 16);
    const [br, bgc, bb] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    for (let x = 0; x < cv.width; x++) {
      for (let y = 0; y < cv.height; y++) {
        const i = (y * cv.width + x) * 4;
        if (d[i + 3]! > 0 && Math.abs(d[i]! - br) + Math.abs(d[i + 1]! - bgc) + Math.abs(d[i + 2]! - bb) > 90) return x;
      }
    }
    return cv.width;
  }, selector);
}
