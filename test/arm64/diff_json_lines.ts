/**
 * Compares two runs' JSON-lines output (the CLI's `--json`), field by field.
 * Pure: used by the aarch64 check (`deno task test:arm64`) to hold the
 * aarch64 run's events against the x86-64 run's.
 *
 * @module
 */

/** Options for {@linkcode diffJsonLines}. */
export interface DiffJsonLinesOptions {
  /**
   * Keys whose values are not compared, at any depth (e.g. `createdAt`, the
   * wall-clock time a row was written). @default {[]}
   */
  ignoreKeys?: readonly string[];
  /**
   * Largest absolute difference allowed for the numbers under a key, at any
   * depth (including inside arrays under it), e.g. `{ plateBbox: 0.5 }`.
   * Numbers under any other key must be equal. @default {{}}
   */
  tolerance?: Readonly<Record<string, number>>;
}

/** Result of {@linkcode diffJsonLines}. */
export interface JsonLinesDiff {
  /**
   * One line per difference, `#<line><path>: <expected> vs <actual>`, e.g.
   * `#2.finalPlate: "AB12" vs "A812"` (lines counted from 1).
   */
  differences: string[];
  /**
   * Per tolerated key, the largest absolute difference seen (0 when equal);
   * keys that never occurred are absent.
   */
  maxDeviation: Record<string, number>;
}

/**
 * Compares `expected` and `actual`, each one JSON value per line (blank lines
 * skipped): same number of lines, same keys, equal strings, booleans and
 * nulls, numbers equal or within the tolerance of their key.
 *
 * @example Two runs that differ by a rounding step in one box
 * ```ts
 * import assert from "node:assert/strict";
 * import { diffJsonLines } from "./diff_json_lines.ts";
 * const d = diffJsonLines(
 *   '{"plate":"AB12","box":[1.0,2.0],"at":"t1"}',
 *   '{"plate":"AB12","box":[1.1,2.0],"at":"t2"}',
 *   { ignoreKeys: ["at"], tolerance: { box: 0.5 } },
 * );
 * assert.deepEqual(d.differences, []);
 * assert.ok(Math.abs(d.maxDeviation.box - 0.1) < 1e-9);
 * ```
 * @param expected The reference output (x86-64 run).
 * @param actual The output to check (aarch64 run).
 * @param options Ignored keys and per-key tolerances.
 * @returns The differences (empty when the outputs agree) and the largest
 * deviation seen per tolerated key.
 * @throws {SyntaxError} When a line is not JSON; the message names the side
 * and line.
 */
export function diffJsonLines(
  expected: string,
  actual: string,
  options: DiffJsonLinesOptions = {},
): JsonLinesDiff {
  const { ignoreKeys = [], tolerance = {} } = options;
  const want = parseLines(expected, "expected");
  const got = parseLines(actual, "actual");
  const out: JsonLinesDiff = { differences: [], maxDeviation: {} };
  if (want.length !== got.length) {
    out.differences.push(
      `line count: ${want.length} vs ${got.length}`,
    );
  }
  const ctx: Walk = {
    ignore: new Set(ignoreKeys),
    tolerance,
    out,
  };
  for (let i = 0; i < Math.min(want.length, got.length); i++) {
    walk(ctx, `#${i + 1}`, want[i], got[i], undefined);
  }
  return out;
}

interface Walk {
  ignore: Set<string>;
  tolerance: Readonly<Record<string, number>>;
  out: JsonLinesDiff;
}

function parseLines(text: string, side: string): unknown[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.map((line, i) => {
    try {
      return JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(
        `Cannot compare outputs as ${side} line ${i + 1} is not JSON: ${
          (error as Error).message
        }`,
      );
    }
  });
}

/** `key` is the nearest object key above (the one tolerances are set on). */
function walk(
  ctx: Walk,
  path: string,
  a: unknown,
  b: unknown,
  key: string | undefined,
): void {
  const diff = () =>
    ctx.out.differences.push(
      `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
    );
  if (typeof a === "number" && typeof b === "number") {
    const tol = key === undefined ? undefined : ctx.tolerance[key];
    if (tol === undefined) {
      if (a !== b) diff();
      return;
    }
    const dev = Math.abs(a - b);
    ctx.out.maxDeviation[key!] = Math.max(
      ctx.out.maxDeviation[key!] ?? 0,
      dev,
    );
    if (!(dev <= tol)) diff();
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      diff();
      return;
    }
    for (let i = 0; i < a.length; i++) {
      walk(ctx, `${path}[${i}]`, a[i], b[i], key);
    }
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (ctx.ignore.has(k)) continue;
      if (!(k in a) || !(k in b)) {
        ctx.out.differences.push(
          `${path}.${k}: ${k in a ? "present" : "missing"} vs ${
            k in b ? "present" : "missing"
          }`,
        );
        continue;
      }
      walk(ctx, `${path}.${k}`, a[k], b[k], k);
    }
    return;
  }
  if (a !== b) diff();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
