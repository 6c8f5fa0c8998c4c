/**
 * Prometheus text exposition (format 0.0.4), written directly: for tens of thousands of
 * series this is several times faster than prom-client's registry (bench/mesh-scale.ts
 * measures both), and the values are computed at scrape time from state we already hold.
 */

/** Escapes a label value: backslash, double quote and newline (the format's rule). */
export function escapeLabel(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** `{a="x",b="y"}` from label pairs (empty pairs render as nothing). */
export function labelString(labels: Record<string, string | number>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) parts.push(`${k}="${escapeLabel(String(v))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** A number as the format wants it (+Inf, -Inf, NaN spelled out). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Collects metric families and renders them in one string. */
export class Exposition {
  private chunks: string[] = [];
  private declared = new Set<string>();

  /** Declares a family (HELP and TYPE) once; samples of it follow. */
  family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): this {
    if (this.declared.has(name)) return this;
    this.declared.add(name);
    this.chunks.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`);
    return this;
  }

  /** One sample; `labels` is a rendered label string (see labelString), possibly cached by the caller. */
  sample(name: string, labels: string, value: number): this {
    this.chunks.push(`${name}${labels} ${formatValue(value)}\n`);
    return this;
  }

  /**
   * A histogram's samples from cumulative-ready per-bucket counts (not cumulative) whose
   * upper bounds are `bounds` (+Inf implied last). `labels` is the inner part `a="x",b="y"`.
   */
  histogram(name: string, inner: string, bounds: readonly number[], counts: ArrayLike<number>, sum: number): this {
    let acc = 0;
    const sep = inner ? ',' : '';
    let s = '';
    for (let i = 0; i < bounds.length; i++) {
      acc += counts[i]!;
      s += `${name}_bucket{${inner}${sep}le="${bounds[i]}"} ${acc}\n`;
    }
    acc += counts[bounds.length]!;
    s += `${name}_bucket{${inner}${sep}le="+Inf"} ${acc}\n${name}_sum${inner ? `{${inner}}` : ''} ${formatValue(sum)}\n${name}_count${inner ? `{${inner}}` : ''} ${acc}\n`;
    this.chunks.push(s);
    return this;
  }

  /** Appends already rendered sample lines. */
  raw(lines: string): this {
    this.chunks.push(lines);
    return this;
  }

  text(): string {
    return this.chunks.join('');
  }
}
