/**
 * Reads the plates of one frame with the OCR: every box in one batch, then,
 * in one more batch, the rows of two-row shaped plates whose whole read was
 * not sure and the row above and below one-row boxes with a short read (a
 * detector box around one row of a two-row plate), see `two_row.ts`. The
 * clip stages and `read` both call it.
 *
 * @module
 */

import type { Box, RgbImage } from "../shared/mod.ts";
import type { OcrResult, PlateOcr } from "./models.ts";
import {
  chooseOtherRow,
  chooseRowsRead,
  joinRows,
  otherRowBoxes,
  rowsToRead,
} from "./two_row.ts";

/** What {@linkcode readPlates} needs of the OCR. */
export type PlateReader = Pick<PlateOcr, "read">;

/** One plate read by {@linkcode readPlates}. */
export interface PlateReadResult extends OcrResult {
  /**
   * The plate's box: the detected box, or the box extended by the row the
   * detector left out of a two-row plate.
   */
  plateBox: Box;
}

/**
 * Reads plates, two-row plates as one read with both rows in order.
 *
 * @param ocr The OCR.
 * @param img The frame.
 * @param boxes Plate boxes in frame pixels.
 * @returns One result per box, in order.
 */
export async function readPlates(
  ocr: PlateReader,
  img: RgbImage,
  boxes: readonly Box[],
): Promise<PlateReadResult[]> {
  const results: PlateReadResult[] = (await ocr.read(img, boxes)).map((
    r,
    i,
  ) => ({ ...r, plateBox: boxes[i] }));
  const jobs: Array<
    { index: number; kind: "rows" | "other"; boxes: [Box, Box] }
  > = [];
  results.forEach((r, index) => {
    const rows = rowsToRead(boxes[index], r.read);
    if (rows !== null) jobs.push({ index, kind: "rows", boxes: rows });
    const other = otherRowBoxes(boxes[index], r.read.text, img);
    if (other !== null) jobs.push({ index, kind: "other", boxes: other });
  });
  if (jobs.length === 0) return results;
  const more = await ocr.read(img, jobs.flatMap((j) => j.boxes));
  jobs.forEach((job, i) => {
    const [a, b] = [more[2 * i], more[2 * i + 1]];
    const current = results[job.index];
    if (job.kind === "rows") {
      const joined = joinRows(a.read, b.read, current.read);
      results[job.index] = {
        ...current,
        read: chooseRowsRead(current.read, joined),
      };
      return;
    }
    const pick = chooseOtherRow(current.read, a.read, b.read);
    if (pick === null) return;
    const chosen = pick.which === "up" ? a : b;
    results[job.index] = {
      read: pick.read,
      cropBox: chosen.cropBox,
      crop: chosen.crop,
      plateBox: job.boxes[pick.which === "up" ? 0 : 1],
    };
  });
  return results;
}
