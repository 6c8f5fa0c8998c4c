/**
 * Axis labels drawn from bitmaps made once per text, font and colour. The overview draws a
 * hundred small graphs whose labels repeat (the same hour ticks on every card, a few y values):
 * fillText shapes and rasterises each of ~900 labels anew, which took 200–290 ms of a page
 * load; a drawImage of a ready bitmap costs a fraction of that.
 */
interface Sprite { canvas: HTMLCanvasElement; width: number; height: number }

const cache = new Map<string, Sprite>();
/** Distinct labels kept; beyond, the cache starts again (labels of other ranges and zones). */
const MAX = 2000;

function sprite(text: string, font: string, color: string, px: number): Sprite {
  const key = `${font}\u0000${color}\u0000${text}`;
  let s = cache.get(key);
  if (s) return s;
  if (cache.size >= MAX) cache.clear();
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d')!;
  ctx.font = font;
  const width = Math.ceil(ctx.measureText(text).width) + 2;
  const height = Math.ceil(px * 1.4);
  canvas.width = width;
  canvas.height = height;
  // Setting the size reset the context.
  ctx.font = font;
  ctx.fillStyle = color;
  ctx.textBaseline = 'middle';
  ctx.fillText(text, 1, height / 2);
  cache.set(key, (s = { canvas, width, height }));
  return s;
}

/**
 * Draws `text` at (x, y) as fillText would with textAlign `align` and textBaseline `middle`
 * (`top` for `valign: 'top'`), in `font` (whose pixel size is `px`) and `color`, on whole
 * pixels. Returns the label's width.
 */
export function drawLabel(ctx: CanvasRenderingContext2D, text: string, x: number, y: number,
  o: { font: string; px: number; color: string; align: 'left' | 'center' | 'right'; valign?: 'middle' | 'top' }): number {
  const s = sprite(text, o.font, o.color, o.px);
  const w = s.width - 2;
  const left = o.align === 'left' ? x : o.align === 'center' ? x - w / 2 : x - w;
  const top = o.valign === 'top' ? y - (s.height - o.px) / 2 : y - s.height / 2;
  ctx.drawImage(s.canvas, Math.round(left - 1), Math.round(top));
  return w;
}

/** A label's width as drawLabel draws it. */
export function labelWidth(text: string, font: string, color: string, px: number): number {
  return sprite(text, font, color, px).width - 2;
}
