/**
 * Small helpers for the benchmarks.
 *
 * @module
 */

/**
 * Median of numbers.
 *
 * @param xs Values.
 * @returns The median (NaN for none).
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Formats a number with fixed decimals.
 *
 * @param x Value.
 * @param d Decimals.
 * @returns Text.
 */
export function fmt(x: number, d = 1): string {
  return Number.isFinite(x) ? x.toFixed(d) : "-";
}

/** Samples the process RSS and keeps the peak. */
export class RssSampler {
  peak = 0;
  #timer: ReturnType<typeof setInterval>;
  /** Starts sampling every `ms`. */
  constructor(ms = 50) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), ms);
  }
  #sample() {
    this.peak = Math.max(this.peak, Deno.memoryUsage().rss);
  }
  /** Stops; returns the peak in MiB. */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    return this.peak / 2 ** 20;
  }
}

/**
 * Prints a table with aligned columns.
 *
 * @param title Heading.
 * @param rows Rows of cells (first row: header).
 */
export function table(title: string, rows: string[][]): void {
  console.log(`\n## ${title}\n`);
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((r) => (r[i] ?? "").length))
  );
  for (const [n, r] of rows.entries()) {
    console.log(`| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`);
    if (n === 0) {
      console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    }
  }
}
