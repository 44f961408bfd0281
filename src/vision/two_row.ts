/**
 * Two-row plates (motorcycles, square plates): which crops to read again as
 * two rows, and how to join the rows into one read. Pure, no I/O.
 *
 * Measured (built two-row plates from the Romanian stills, the OCR
 * `cct_xs_v2_global`, see the README): the OCR reads a square two-row crop,
 * stretched to its 128x64 input, as one plate with both rows in order
 * (`B99BNX` 0.97, `B144MOS` 1.00, at 50-160 px wide); each row read alone
 * gives the same characters (`B99` 1.00 + `BNX` 0.99) but a wrong region
 * (a short plate looks Latvian or New Zealand). Single-row plates are 2:1
 * (US) to 4.7:1 (EU) and read as rows give junk. So a crop narrower than
 * `maxAspect` whose whole read is not sure is also read as two rows, and
 * the rows win only when they are more confident together; the whole read's
 * region is kept.
 *
 * The plate detector (trained mostly on one-row plates) often boxes only one
 * row of a two-row plate: on a two-row plate built from
 * `dayride_type1_001_t0056.jpg` and laid on its car it boxed the bottom row,
 * and the OCR read `M0S`. So a one-row shaped box whose read is short (at
 * most `maxChars`, where a one-row plate has 5-8) is also read one row
 * higher and one row lower (`otherRowBoxes`); a read there wins when it is
 * longer by at least 2 characters, confident, and holds the short read as
 * its bottom (box extended up) or top (extended down) row within one edit
 * (`chooseOtherRow`).
 *
 * @module
 */

import { type Box, editDistance, type PlateRead } from "../shared/mod.ts";

/** Options for {@linkcode twoRowBoxes}. */
export interface TwoRowBoxesOptions {
  /**
   * Boxes with width / height below this may hold two rows: square EU plates
   * are 1.4:1, UK motorcycle plates 1.3:1, one-row US plates 2:1.
   * @default {1.7}
   */
  maxAspect?: number;
  /**
   * Each row's box reaches this fraction of the height past the middle, so
   * a row set a little off centre is still whole.
   * @default {0.05}
   */
  overlap?: number;
}

/**
 * The top and bottom row boxes of a plate box that may hold two rows, or
 * null for a one-row shape.
 *
 * @example Usage
 * ```ts
 * import { twoRowBoxes } from "./two_row.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(twoRowBoxes([0, 0, 100, 80], { overlap: 0 }), [[0, 0, 100, 40], [0, 40, 100, 80]]);
 * assert.equal(twoRowBoxes([0, 0, 200, 50]), null);
 * ```
 * @param box Plate box `[x1, y1, x2, y2]`.
 * @param options Aspect limit and overlap.
 * @returns `[top, bottom]`, or null.
 * @throws {RangeError} When `maxAspect` is not > 0 or `overlap` not in 0..0.5.
 */
export function twoRowBoxes(
  box: Box,
  options: TwoRowBoxesOptions = {},
): [Box, Box] | null {
  const { maxAspect = 1.7, overlap = 0.05 } = options;
  if (!(maxAspect > 0) || !(overlap >= 0 && overlap <= 0.5)) {
    throw new RangeError(
      `Cannot split a plate into rows as 'maxAspect' must be > 0 and 'overlap' in 0..0.5: current values are ${maxAspect} and ${overlap}`,
    );
  }
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  if (!(w > 0 && h > 0) || w / h >= maxAspect) return null;
  const mid = box[1] + h / 2;
  return [
    [box[0], box[1], box[2], mid + h * overlap],
    [box[0], mid - h * overlap, box[2], box[3]],
  ];
}

/** The slots of a read that hold characters (top candidate not padding). */
function characterSlots(
  read: PlateRead,
  padChar: string,
): Array<Array<[string, number]>> | undefined {
  return read.slotTop?.filter((slot) => {
    let top = slot[0];
    for (const c of slot) if (c[1] > top[1]) top = c;
    return top !== undefined && top[0] !== padChar;
  });
}

/**
 * Joins the reads of a plate's two rows into one read: texts, character
 * probabilities and character slots in order (top row first), padding slots
 * after them, confidence the mean character probability. `region` and
 * `regionProb` come from `whole` (a row alone looks like another country's
 * short plate).
 *
 * @example Usage
 * ```ts
 * import { joinRows } from "./two_row.ts";
 * import assert from "node:assert/strict";
 * const r = (text: string, p: number) => ({ text, confidence: p, charProbs: [...text].map(() => p) });
 * const joined = joinRows(r("B99", 1), r("BNX", 0.9), { ...r("B9BNX", 0.5), region: "Romania", regionProb: 0.99 });
 * assert.equal(joined.text, "B99BNX");
 * assert.equal(joined.region, "Romania");
 * ```
 * @param top The top row's read.
 * @param bottom The bottom row's read.
 * @param whole The whole crop's read (for the region).
 * @param padChar The OCR's padding character. @default {"_"}
 * @returns The joined read.
 */
export function joinRows(
  top: PlateRead,
  bottom: PlateRead,
  whole: PlateRead,
  padChar = "_",
): PlateRead {
  const text = top.text + bottom.text;
  const charProbs = [...top.charProbs, ...bottom.charProbs];
  const joined: PlateRead = {
    text,
    confidence: charProbs.length
      ? charProbs.reduce((a, b) => a + b, 0) / charProbs.length
      : 0,
    charProbs,
  };
  const topSlots = characterSlots(top, padChar);
  const bottomSlots = characterSlots(bottom, padChar);
  const slotCount = whole.slotTop?.length ?? 0;
  if (
    topSlots !== undefined && bottomSlots !== undefined &&
    topSlots.length === top.text.length &&
    bottomSlots.length === bottom.text.length
  ) {
    const slots = [...topSlots, ...bottomSlots];
    while (slots.length < slotCount) slots.push([[padChar, 1]]);
    joined.slotTop = slots;
  }
  if (whole.region !== undefined) joined.region = whole.region;
  if (whole.regionProb !== undefined) joined.regionProb = whole.regionProb;
  return joined;
}

/** Options for {@linkcode chooseRowsRead}. */
export interface ChooseRowsReadOptions {
  /**
   * Whole reads at least this confident are kept without looking at rows.
   * @default {0.9}
   */
  sureConfidence?: number;
}

/**
 * Whether a plate needs its rows read: a two-row shape whose whole read is
 * less confident than `sureConfidence`.
 *
 * @param box Plate box.
 * @param whole The whole crop's read.
 * @param options Thresholds.
 * @returns The row boxes to read, or null.
 */
export function rowsToRead(
  box: Box,
  whole: PlateRead,
  options: ChooseRowsReadOptions & TwoRowBoxesOptions = {},
): [Box, Box] | null {
  const { sureConfidence = 0.9 } = options;
  if (whole.confidence >= sureConfidence) return null;
  return twoRowBoxes(box, options);
}

/**
 * Picks the joined rows over the whole read when they hold at least half as
 * many characters and are more confident.
 *
 * @example Usage
 * ```ts
 * import { chooseRowsRead } from "./two_row.ts";
 * import assert from "node:assert/strict";
 * const r = (text: string, p: number) => ({ text, confidence: p, charProbs: [] });
 * assert.equal(chooseRowsRead(r("B12HDD", 0.73), r("B121PHD", 0.9)).text, "B121PHD");
 * assert.equal(chooseRowsRead(r("B121PHD", 0.95), r("B121PHL", 0.9)).text, "B121PHD");
 * ```
 * @param whole The whole crop's read.
 * @param joined The rows joined by {@linkcode joinRows}.
 * @returns The read to use.
 */
export function chooseRowsRead(whole: PlateRead, joined: PlateRead): PlateRead {
  return joined.text.length > whole.text.length / 2 &&
      joined.confidence > whole.confidence
    ? joined
    : whole;
}

/** Options for {@linkcode otherRowBoxes}. */
export interface OtherRowBoxesOptions {
  /**
   * Only reads with at most this many characters may be one row of two.
   * @default {4}
   */
  maxChars?: number;
  /**
   * Only boxes at least this wide for their height (one-row shapes).
   * @default {1.7}
   */
  minAspect?: number;
}

/**
 * The box extended by one row upwards and by one row downwards, clamped to
 * the frame, for a one-row shaped box whose read is short; null otherwise.
 * The other row may sit past a gap and be wider than the boxed one (a top
 * row of 4 characters over a bottom row of 3), so the box grows by 1.5 of
 * its heights and by a quarter of its width on each side: on the built
 * two-row plate of `two_row_test.ts` one height and 5 % gave `M044`, this
 * `B144MOS` at 1.00.
 *
 * @example Usage
 * ```ts
 * import { otherRowBoxes } from "./two_row.ts";
 * import assert from "node:assert/strict";
 * const frame = { width: 1280, height: 720 };
 * const rows = otherRowBoxes([600, 400, 700, 440], "MOS", frame);
 * assert.deepEqual(rows, [[575, 340, 725, 440], [575, 400, 725, 500]]);
 * assert.equal(otherRowBoxes([600, 400, 700, 440], "B144MOS", frame), null);
 * ```
 * @param box The plate box.
 * @param text Its read.
 * @param frame Frame size.
 * @param options Thresholds.
 * @returns `[up, down]` or null.
 */
export function otherRowBoxes(
  box: Box,
  text: string,
  frame: { width: number; height: number },
  options: OtherRowBoxesOptions = {},
): [Box, Box] | null {
  const { maxChars = 4, minAspect = 1.7 } = options;
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  if (text.length === 0 || text.length > maxChars) return null;
  if (!(w > 0 && h > 0) || w / h < minAspect) return null;
  const x1 = Math.max(0, box[0] - 0.25 * w);
  const x2 = Math.min(frame.width, box[2] + 0.25 * w);
  return [
    [x1, Math.max(0, box[1] - 1.5 * h), x2, box[3]],
    [x1, box[1], x2, Math.min(frame.height, box[3] + 1.5 * h)],
  ];
}

/** Options for {@linkcode chooseOtherRow}. */
export interface ChooseOtherRowOptions {
  /**
   * Least confidence of the two-row read.
   * @default {0.8}
   */
  minConfidence?: number;
}

/**
 * Picks the read of a box extended by one row (see the module
 * documentation), or null when neither holds the short read as a row of a
 * longer, confident plate.
 *
 * @example Usage
 * ```ts
 * import { chooseOtherRow } from "./two_row.ts";
 * import assert from "node:assert/strict";
 * const r = (text: string, p: number) => ({ text, confidence: p, charProbs: [] });
 * assert.equal(chooseOtherRow(r("M0S", 0.9), r("B144MOS", 0.95), r("M0S", 0.9))?.which, "up");
 * assert.equal(chooseOtherRow(r("UNI", 0.9), r("XYUNI", 0.5), r("UNI", 0.9)), null);
 * ```
 * @param short The read of the detected box.
 * @param up The read of the box extended upwards.
 * @param down The read of the box extended downwards.
 * @param options Threshold.
 * @returns The winning read and its side, or null.
 */
export function chooseOtherRow(
  short: PlateRead,
  up: PlateRead,
  down: PlateRead,
  options: ChooseOtherRowOptions = {},
): { read: PlateRead; which: "up" | "down" } | null {
  const { minConfidence = 0.8 } = options;
  const n = short.text.length;
  const fits = (r: PlateRead, part: string) =>
    r.text.length >= n + 2 && r.confidence >= minConfidence &&
    editDistance(part, short.text) <= 1;
  const candidates: Array<{ read: PlateRead; which: "up" | "down" }> = [];
  if (fits(up, up.text.slice(-n))) candidates.push({ read: up, which: "up" });
  if (fits(down, down.text.slice(0, n))) {
    candidates.push({ read: down, which: "down" });
  }
  candidates.sort((a, b) => b.read.confidence - a.read.confidence);
  return candidates[0] ?? null;
}
