/**
 * The shared data beside the repo (`../shared`): models and media with
 * ground truth. Read at test time; never copied into the repo.
 *
 * @module
 */
import { fromFileUrl } from "./paths.ts";

/** `../shared` beside the repo. */
export const SHARED_DIR = fromFileUrl(
  new URL("../../../shared/", import.meta.url),
);
/** The model files. */
export const SHARED_MODELS = `${SHARED_DIR}models`;
/** The media files. */
export const SHARED_MEDIA = `${SHARED_DIR}media`;

/** One ground-truth plate. */
export interface TruthPlate {
  /** Plate text, A-Z0-9. */
  text: string;
  /** Stills: plate box `[x1, y1, x2, y2]` in pixels. */
  box?: [number, number, number, number];
  /** Small or blurred; the reading is less certain. */
  hard?: boolean;
  /** Clips: first second readable. */
  from_s?: number;
  /** Clips: last second readable. */
  to_s?: number;
}

/** Ground truth of one file. */
export interface TruthFile {
  /** Path relative to the media folder. */
  file: string;
  /** Readable plates. */
  plates: TruthPlate[];
}

/**
 * Loads `ground_truth.json`.
 *
 * @returns Every file's ground truth.
 */
export async function loadGroundTruth(): Promise<TruthFile[]> {
  const json = JSON.parse(
    await Deno.readTextFile(`${SHARED_MEDIA}/ground_truth.json`),
  );
  return json.files as TruthFile[];
}
