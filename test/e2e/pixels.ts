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

/**
 * Below a small graph's plot area (its canvas' `data-plot`, device pixels): the last row of the
 * y axis' "0" label (the run of inked rows from the zero line down, in the label column left of
 * the plot) and the first inked row of the time labels under the plot. A time label that
 * touches the "0" continues its run, so the gap is then zero or less.
 */
export async function zeroLabelGap(page: Page, selector: string): Promise<{ zeroBottom: number; timeTop: number; gap: number; dpr: number }> {
  // No named functions in here: the page has no tsx helpers (__name) to run them.
  return page.evaluate((sel) => {
    const cv = document.querySelector(sel) as HTMLCanvasElement;
    const [left, top, , height] = cv.dataset.plot!.split(',').map(Number) as [number, number, number, number];
    const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    const n = parseInt(getComputedStyle(document.documentElement).getPropertyValue('--bg').trim().slice(1), 16);
    const bg = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    // Rows with ink (far from the background) in the label column (from the canvas edge to where
    // the right-aligned labels end) and under the plot.
    const dpr = window.devicePixelRatio || 1;
    const labelEnd = Math.floor(left - 2 * dpr);
    const inLabels: boolean[] = [];
    const underPlot: boolean[] = [];
    for (let y = 0; y < cv.height; y++) {
      inLabels.push(false);
      underPlot.push(false);
      for (let x = 0; x < cv.width; x++) {
        const i = (y * cv.width + x) * 4;
        if (d[i + 3]! > 0 && Math.abs(d[i]! - bg[0]!) + Math.abs(d[i + 1]! - bg[1]!) + Math.abs(d[i + 2]! - bg[2]!) > 90) {
          if (x < labelEnd) inLabels[y] = true;
          else if (x >= left) underPlot[y] = true;
        }
      }
    }
    const zeroY = Math.round(top + height);
    if (!inLabels[zeroY]) throw new Error(`no "0" label at row ${zeroY}`);
    let zeroBottom = zeroY;
    while (zeroBottom + 1 < cv.height && inLabels[zeroBottom + 1]) zeroBottom++;
    let timeTop = zeroY + 2;
    while (timeTop < cv.height && !underPlot[timeTop]) timeTop++;
    if (timeTop === cv.height) throw new Error('no time labels under the plot');
    return { zeroBottom, timeTop, gap: timeTop - zeroBottom - 1, dpr };
  }, selector);
}
