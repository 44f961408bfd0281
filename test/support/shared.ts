/**
 * The shared data beside the repo (`../shared`): models and media with
 * ground truth. Read at test time; never copied into the repo.
 *
 * @module
 */
import { fromFileUrl } from "./paths.ts";
import { installModels, loadManifest } from "../../src/vision/model_store.ts";

/** `../shared` beside the repo, or `$DASHCAM_SHARED_DIR`. */
export const SHARED_DIR = sharedDir(Deno.env.get("DASHCAM_SHARED_DIR"));
/** The model files. */
export const SHARED_MODELS = `${SHARED_DIR}models`;
/** The media files. */
export const SHARED_MEDIA = `${SHARED_DIR}media`;

function sharedDir(fromEnv: string | undefined): string {
  if (fromEnv) return fromEnv.endsWith("/") ? fromEnv : `${fromEnv}/`;
  return fromFileUrl(new URL("../../../shared/", import.meta.url));
}

/**
 * What is missing of the shared data, as one line saying how to get it, or
 * `null` when models and media are both there.
 *
 * @param dir The shared folder (with a trailing slash).
 * @returns The line, or `null`.
 */
export function missingSharedData(dir: string): string | null {
  const missing: string[] = [];
  for (
    const [name, marker] of [["models", "MODELS.md"], [
      "media",
      "ground_truth.json",
    ]]
  ) {
    try {
      Deno.statSync(`${dir}${name}/${marker}`);
    } catch {
      missing.push(`${dir}${name}/${marker}`);
    }
  }
  if (missing.length === 0) return null;
  return `tests: missing ${missing.join(" and ")}: these tests need the ` +
    "project's shared data beside the repo (models: `deno task dashcam models " +
    `install --all --models-dir ${dir}models\`, media: the developer media ` +
    "set, which is not public; ask the project for it) or DASHCAM_SHARED_DIR " +
    "naming a folder that holds both";
}

// Test modules that need the data import this module: without it they stop
// here with one line instead of a raw NotFound in every test. The other
// test files still run.
const missing = missingSharedData(SHARED_DIR);
if (missing !== null) {
  console.error(missing);
  Deno.exit(1);
}

/**
 * A models folder holding every model of `models/models.json` as
 * `deno task dashcam models install --all --from ../shared/models` leaves
 * it: the shared files copied, and the derived models that `../shared/models`
 * does not hold (a derivation newer than the shared set) made from their
 * upstream files. Tests and benches run the product on this folder, so they
 * use the defaults a user's install has. Kept in `.cache/test_models`
 * between runs (files already right are not touched); checked once per
 * process.
 */
export const TEST_MODELS = fromFileUrl(
  new URL("../../.cache/test_models", import.meta.url),
);
{
  const report = await installModels(await loadManifest(), {
    from: SHARED_MODELS,
    to: TEST_MODELS,
    only: "all",
  });
  const problems = [
    ...report.missing,
    ...report.corrupt.map((c) => `${c.file} (${c.reason})`),
    ...report.fallback.map((f) => `${f.file} (${f.reason})`),
  ];
  if (problems.length > 0) {
    console.error(
      `tests: cannot install the models from ${SHARED_MODELS} into ${TEST_MODELS}: ${
        problems.join(", ")
      }`,
    );
    Deno.exit(1);
  }
}

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
