/**
 * Installs and checks the model files listed in `models/models.json`. The
 * product ships no weights: `models install` downloads each upstream file
 * from the URL the manifest pins (or a mirror of it), or copies it from a
 * folder the user trusts, and makes the derived models from their upstream
 * file (`onnx_derive.ts`); every file is checked against the manifest's
 * sha256 before it is moved into place.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { sha256File } from "../shared/mod.ts";
import {
  findModel,
  type Manifest,
  type ManifestFile,
  type ModelEntry,
  type ModelSelection,
  type ModelTask,
  parseManifest,
  selectModels,
} from "./model_manifest.ts";
import {
  type DownloadOptions,
  downloadVerified,
  mirrorUrl,
} from "./model_download.ts";

/** The command that installs models, quoted in error messages. */
export const INSTALL_HINT = "deno task dashcam models install";

/** The manifest that comes with the code. */
export const DEFAULT_MANIFEST_URL: URL = new URL(
  "../../models/models.json",
  import.meta.url,
);

/** A file that could not be installed or failed its check, and why. */
export interface FileProblem {
  /** File name as in the manifest. */
  file: string;
  /** One line: what is wrong. */
  reason: string;
}

/** What {@linkcode makeDerivedModels} made, and what it could not. */
export interface DeriveReport {
  /** Derived models made and verified. */
  derived: string[];
  /** For each model of `derived`, the installed file it was made from. */
  sources: Record<string, string>;
  /** Derived models that could not be made, each with what the pipeline uses instead. */
  fallback: FallbackNote[];
}

/** What {@linkcode installModels} did, file by file. */
export interface InstallReport extends DeriveReport {
  /** Files copied and verified. */
  installed: string[];
  /** Files already present with the right sha256, left alone. */
  skipped: string[];
  /** Files not found in the source folder. */
  missing: string[];
  /** Files found in the source folder whose size or sha256 is wrong; nothing was written for them. */
  corrupt: FileProblem[];
  /** Files whose download failed; `reason` names the URL and the error. Nothing was written for them. */
  failed: FileProblem[];
}

/** A derived model that could not be made, and what is used instead. */
export interface FallbackNote {
  /** The derived model's file name. */
  file: string;
  /** The installed file it was last tried from (`reason` is about that try). */
  source: string;
  /** One line: why it could not be made. */
  reason: string;
  /**
   * The installed file the pipeline uses in its place, as
   * {@linkcode resolveModel} picks it (an intact model derived from the same
   * file, or the upstream file), or null when none is intact.
   */
  standIn: string | null;
  /**
   * What the stand-in costs: the manifest's `derive.fallbackCost` for the
   * upstream file, the same weights for a model derived from it; empty when
   * there is none.
   */
  cost: string;
}

/** What {@linkcode checkModels} found. */
export interface CheckReport {
  /** Files present with the right size and sha256. */
  ok: string[];
  /** Files absent from the folder. */
  missing: string[];
  /** Files present with the wrong size or sha256. */
  corrupt: FileProblem[];
}

/** Progress of one file being downloaded. */
export interface InstallProgress {
  /** File name. */
  file: string;
  /** URL fetched. */
  url: string;
  /** Bytes so far. */
  done: number;
  /** Expected size. */
  total: number;
}

/** Options for {@linkcode installModels}. */
export interface InstallModelsOptions {
  /** Folder to copy the files from; when absent, the files are downloaded. */
  from?: string;
  /** Base URL replacing `https://github.com` in every download URL. */
  mirror?: string;
  /** Retries and backoff of each download (tests shorten them). */
  download?: Pick<DownloadOptions, "retries" | "backoffMs" | "sleep">;
  /** Called as download bytes arrive. */
  onProgress?: (progress: InstallProgress) => void;
  /** Models folder to install into; created when absent. */
  to: string;
  /** `default` installs the default models only, `all` every model. @default {"default"} */
  only?: ModelSelection;
}

/** Options for {@linkcode checkModels} and {@linkcode assertModelsReady}. */
export interface CheckModelsOptions {
  /** Models folder to check. */
  dir: string;
  /** `default` checks the default models only, `all` every model. @default {"default"} */
  only?: ModelSelection;
}

/** Options for {@linkcode loadManifest}. */
export interface LoadManifestOptions {
  /** Path or URL of `models.json`. @default {DEFAULT_MANIFEST_URL} */
  path?: string | URL;
}

/**
 * Reads and parses a manifest file.
 *
 * @example Load the manifest that comes with the code
 * ```ts ignore
 * const manifest = await loadManifest();
 * ```
 * @param options Where the manifest is.
 * @returns The parsed manifest.
 * @throws {Error} One line naming the file when it cannot be read or parsed.
 */
export async function loadManifest(
  options: LoadManifestOptions = {},
): Promise<Manifest> {
  const { path = DEFAULT_MANIFEST_URL } = options;
  const shown = path instanceof URL && path.protocol === "file:"
    ? decodeURIComponent(path.pathname)
    : String(path);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `Cannot read model manifest ${shown}: ${firstLine(error)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(
      `Cannot parse model manifest ${shown}: ${firstLine(error)}`,
    );
  }
  try {
    return parseManifest(json);
  } catch (error) {
    throw new TypeError(`${firstLine(error)} (in ${shown})`);
  }
}

/**
 * Installs the selected models (and their extra files) into the models
 * folder. Upstream files are copied from `options.from`, or else downloaded
 * from their manifest URL (through `options.mirror` when given). A derived
 * model is copied when the folder has it, or else made from its upstream file
 * and checked against its pinned sha256; when that fails it is listed in
 * `fallback` with the installed model the pipeline will use instead (the
 * upstream file, or a model derived from it). Every file goes
 * through a temporary file and is renamed into place only when its sha256
 * matches, so a crash never leaves a half-written model; files already
 * present with the right sha256 are skipped and never touched.
 *
 * @example Install the default models from a USB stick
 * ```ts ignore
 * const report = await installModels(await loadManifest(), { from: "/media/usb/models", to: "/var/lib/dashcam/models" });
 * ```
 * @param manifest The manifest.
 * @param options Source folder or mirror, target folder and selection.
 * @returns What was installed, skipped, made, or could not be had.
 * @throws {Error} When the target folder cannot be written.
 */
export async function installModels(
  manifest: Manifest,
  options: InstallModelsOptions,
): Promise<InstallReport> {
  const { from, to, only = "default" } = options;
  const report: InstallReport = {
    installed: [],
    skipped: [],
    missing: [],
    corrupt: [],
    failed: [],
    derived: [],
    sources: {},
    fallback: [],
  };
  await Deno.mkdir(to, { recursive: true });
  const selected = selectModels(checkSelection(manifest, only), only);
  const upstream: ManifestFile[] = [];
  const want = (file: ManifestFile) => {
    if (!upstream.some((f) => f.file === file.file)) upstream.push(file);
  };
  for (const entry of selected) {
    if (entry.derive === undefined) {
      want(entry);
    } else {
      const target = join(to, entry.file);
      if ((await checkFile(target, entry)).status === "ok") {
        report.skipped.push(entry.file);
      } else if (
        from !== undefined && await copyFromFolder(from, entry, target) === "ok"
      ) {
        report.installed.push(entry.file);
      } else {
        const source = findModel(manifest, entry.task, {
          file: entry.derive.from,
        });
        want(source);
        source.extraFiles.forEach(want);
      }
    }
    entry.extraFiles.forEach(want);
  }
  for (const file of upstream) {
    const target = join(to, file.file);
    if ((await checkFile(target, file)).status === "ok") {
      report.skipped.push(file.file);
    } else if (from !== undefined) {
      const copied = await copyFromFolder(from, file, target);
      if (copied === "ok") report.installed.push(file.file);
      else if (copied === "missing") report.missing.push(file.file);
      else report.corrupt.push({ file: file.file, reason: copied.reason });
    } else {
      const url = mirrorUrl(file.url ?? "", options.mirror);
      try {
        await downloadVerified(url, target, {
          sha256: file.sha256,
          bytes: file.bytes,
          ...options.download,
          onProgress: (p) =>
            options.onProgress?.({ file: file.file, url, ...p }),
        });
        report.installed.push(file.file);
      } catch (error) {
        report.failed.push({
          file: file.file,
          reason: `${url}: ${firstLine(error)}`,
        });
      }
    }
  }
  const made = await makeDerivedModels(manifest, { dir: to, only });
  report.derived.push(...made.derived);
  Object.assign(report.sources, made.sources);
  report.fallback.push(...made.fallback);
  return report;
}

/**
 * The files a derived model can be made from, best first: its upstream
 * file, then the other models derived from that same file (the same weights:
 * running the recipe on one of them gives the pinned bytes when its steps
 * are ones the recipe repeats harmlessly, e.g. `symbolic_dims` or
 * `dequantize_conv_integer`; the sha256 check decides).
 */
function lineage(manifest: Manifest, entry: ModelEntry): ModelEntry[] {
  const from = entry.derive?.from;
  if (from === undefined) return [];
  return [
    findModel(manifest, entry.task, { file: from }),
    ...manifest.models.filter((m) =>
      m.task === entry.task && m.derive?.from === from && m.file !== entry.file
    ),
  ];
}

/**
 * Makes, in the models folder, each selected derived model that is missing
 * or corrupt there: offline, from its upstream file or, when that is not
 * installed, from another model derived from the same file (a folder filled
 * by an older build holds that one), checked against the pinned sha256 and
 * renamed into place only then. A build whose default is a derivation newer
 * than the folder (an update installed without `models install`) so gets it
 * at start instead of falling back. Derived models already intact, and
 * those with nothing installed to make them from, are left alone.
 *
 * @example Before the daemon starts
 * ```ts ignore
 * const made = await makeDerivedModels(await loadManifest(), { dir: config.models_dir });
 * ```
 * @param manifest The manifest.
 * @param options Folder and selection.
 * @returns What was made, and one note per model that could not be (a
 * read-only folder, a derivation that gives other bytes than pinned).
 */
export async function makeDerivedModels(
  manifest: Manifest,
  options: CheckModelsOptions,
): Promise<DeriveReport> {
  const { dir, only = "default" } = options;
  const report: DeriveReport = { derived: [], sources: {}, fallback: [] };
  for (const entry of selectModels(checkSelection(manifest, only), only)) {
    const derive = entry.derive;
    if (derive === undefined) continue;
    const target = join(dir, entry.file);
    if ((await checkFile(target, entry)).status === "ok") continue;
    let problem: string | undefined;
    let tried = "";
    for (const source of lineage(manifest, entry)) {
      const sourcePath = join(dir, source.file);
      if ((await checkFile(sourcePath, source)).status !== "ok") continue;
      tried = source.file;
      try {
        problem = await deriveInto(sourcePath, target, entry);
      } catch (error) {
        problem = firstLine(error);
      }
      if (problem === undefined) {
        report.derived.push(entry.file);
        report.sources[entry.file] = source.file;
        break;
      }
    }
    if (problem !== undefined) {
      const standIn = await standInFor(manifest, entry.file, { dir });
      report.fallback.push({
        file: entry.file,
        source: tried,
        reason: problem,
        standIn: standIn?.file ?? null,
        cost: standIn === undefined ? "" : standInCost(entry, standIn),
      });
    }
  }
  return report;
}

/** Copies one file from the folder; `ok`, `missing`, or the problem. */
async function copyFromFolder(
  from: string,
  file: ManifestFile,
  target: string,
): Promise<"ok" | "missing" | { reason: string }> {
  let input: Deno.FsFile;
  try {
    input = await Deno.open(join(from, file.file), { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "missing";
    throw error;
  }
  const problem = await writeVerified(input.readable, target, file);
  return problem === undefined ? "ok" : { reason: problem };
}

/** Makes a derived model from an installed file of its lineage; returns a problem or undefined. */
async function deriveInto(
  source: string,
  target: string,
  entry: ModelEntry,
): Promise<string | undefined> {
  let bytes: Uint8Array;
  try {
    // Loaded only here: the stage workers that import this module never derive.
    const { deriveModel, deriveOptions } = await import("./onnx_derive.ts");
    bytes = deriveModel(
      await Deno.readFile(source),
      entry.derive!.recipe,
      deriveOptions(entry),
    );
  } catch (error) {
    return firstLine(error);
  }
  return await writeVerified(ReadableStream.from([bytes]), target, entry);
}

/**
 * Picks, for a task, the model the config names (or the default) in `dir`.
 * When it is a derived model that is missing or corrupt, an intact model
 * derived from the same upstream file stands in (the same weights; one that
 * finds every class it finds), or else that upstream file; `warn` gets one
 * line naming what is used and the cost. The pipeline starts instead of
 * refusing to.
 *
 * @example The plate detector, falling back to the int8 file
 * ```ts ignore
 * const entry = await resolveModel(manifest, "plate_detect", { dir, warn: console.warn });
 * ```
 * @param manifest The manifest.
 * @param task The stage.
 * @param options Models folder, file chosen in the config, warning sink.
 * @returns The entry to load.
 * @throws {Error} One line naming the missing or corrupt file and the
 * install command.
 */
export async function resolveModel(
  manifest: Manifest,
  task: ModelTask,
  options: ResolveModelOptions,
): Promise<ModelEntry> {
  const { dir, file, warn } = options;
  const entry = findModel(manifest, task, { file });
  const problem = await firstProblem(dir, entry);
  if (problem === undefined) return entry;
  if (entry.derive !== undefined) {
    const [upstream, ...siblings] = lineage(manifest, entry);
    // A sibling (same weights, derived another way) beats the raw upstream
    // file, when it finds every class the derived model finds.
    for (
      const standIn of [
        ...siblings.filter((s) => coversClasses(s, entry)),
        upstream,
      ]
    ) {
      if (await firstProblem(dir, standIn) !== undefined) continue;
      warn?.(
        `Using ${
          join(dir, standIn.file)
        } instead of the derived ${entry.file} (${problem}): ${
          standInCost(entry, standIn)
        }; make it with: ${INSTALL_HINT}`,
      );
      return standIn;
    }
  }
  throw new Error(
    `Cannot use models: ${problem} (install with: ${INSTALL_HINT})`,
  );
}

/** What running `standIn` in place of the derived `entry` costs: one phrase of the fallback warnings. */
function standInCost(entry: ModelEntry, standIn: ModelEntry): string {
  return standIn.file === entry.derive?.from
    ? entry.derive.fallbackCost
    : "the same weights, derived from the same file";
}

/** Whether `model` reports every class `wanted` does (all of them when `classIds` is absent). */
function coversClasses(model: ModelEntry, wanted: ModelEntry): boolean {
  if (model.classIds === undefined) return true;
  if (wanted.classIds === undefined) return false;
  return wanted.classIds.every((id) => model.classIds!.includes(id));
}

/**
 * The model that will run in place of a missing or corrupt derived model,
 * as {@linkcode resolveModel} picks it (`warn` gets its line), or undefined
 * when nothing can. Undefined too for a file that is not a derived model,
 * which nothing stands in for.
 *
 * @param manifest The manifest.
 * @param file The derived model's file name.
 * @param options Models folder, warning sink.
 * @returns The entry that stands in, or undefined.
 */
export async function standInFor(
  manifest: Manifest,
  file: string,
  options: Omit<ResolveModelOptions, "file">,
): Promise<ModelEntry | undefined> {
  const entry = manifest.models.find((m) => m.file === file && m.derive);
  if (entry === undefined) return undefined;
  try {
    return await resolveModel(manifest, entry.task, { ...options, file });
  } catch {
    return undefined;
  }
}

/** Options for {@linkcode resolveModel}. */
export interface ResolveModelOptions {
  /** Models folder. */
  dir: string;
  /** File chosen in the config. @default {the task's default} */
  file?: string;
  /** Receives the fallback warning. */
  warn?: (message: string) => void;
}

async function firstProblem(
  dir: string,
  entry: ModelEntry,
): Promise<string | undefined> {
  for (const file of [entry, ...entry.extraFiles]) {
    const result = await checkFile(join(dir, file.file), file);
    if (result.status === "missing") {
      return `${join(dir, file.file)} not found`;
    }
    if (result.status === "corrupt") {
      return `${join(dir, file.file)} is corrupt: ${result.reason}`;
    }
  }
  return undefined;
}

/**
 * Checks that the selected models are in a folder with the right size and
 * sha256.
 *
 * @example Check the default models
 * ```ts ignore
 * const report = await checkModels(manifest, { dir: "models" });
 * console.log(report.missing);
 * ```
 * @param manifest The manifest.
 * @param options Folder and selection.
 * @returns Which files are ok, missing or corrupt.
 */
export async function checkModels(
  manifest: Manifest,
  options: CheckModelsOptions,
): Promise<CheckReport> {
  const { dir, only = "default" } = options;
  const report: CheckReport = { ok: [], missing: [], corrupt: [] };
  for (const entry of listFiles(manifest, only)) {
    const result = await checkFile(join(dir, entry.file), entry);
    if (result.status === "ok") report.ok.push(entry.file);
    else if (result.status === "missing") report.missing.push(entry.file);
    else report.corrupt.push({ file: entry.file, reason: result.reason });
  }
  return report;
}

/**
 * Throws unless every selected model is present and intact.
 *
 * @example Check at start-up
 * ```ts ignore
 * await assertModelsReady(manifest, { dir: config.modelsDir });
 * ```
 * @param manifest The manifest.
 * @param options Folder and selection.
 * @throws {Error} One line naming the first missing or corrupt file and the
 * install command.
 */
export async function assertModelsReady(
  manifest: Manifest,
  options: CheckModelsOptions & { warn?: (message: string) => void },
): Promise<void> {
  const { dir, only = "default", warn } = options;
  for (const entry of selectModels(checkSelection(manifest, only), only)) {
    await resolveModel(manifest, entry.task, { dir, file: entry.file, warn });
  }
}

function checkSelection(manifest: Manifest, only: ModelSelection): Manifest {
  if (only !== "default" && only !== "all") {
    throw new TypeError(
      `Cannot select models as 'only' must be default or all: current value is ${
        String(only)
      }`,
    );
  }
  return manifest;
}

function listFiles(manifest: Manifest, only: ModelSelection): ManifestFile[] {
  return selectModels(checkSelection(manifest, only), only).flatMap((entry) => [
    entry,
    ...entry.extraFiles,
  ]);
}

type FileCheck =
  | { status: "ok" }
  | { status: "missing" }
  | { status: "corrupt"; reason: string };

async function checkFile(
  path: string,
  entry: ManifestFile,
): Promise<FileCheck> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { status: "missing" };
    throw error;
  }
  if (!info.isFile) return { status: "corrupt", reason: "not a regular file" };
  if (info.size !== entry.bytes) {
    return {
      status: "corrupt",
      reason: `size ${info.size} bytes, expected ${entry.bytes}`,
    };
  }
  // Read in 1 MiB blocks: 2.7 times faster than the file's 64 KiB stream
  // chunks (15 MB of default models, 28 against 75 ms), and every command
  // checks the models at start.
  const actual = await sha256File(path);
  if (actual !== entry.sha256) {
    return {
      status: "corrupt",
      reason: `sha256 ${actual}, expected ${entry.sha256}`,
    };
  }
  return { status: "ok" };
}

/** Writes `input` to `target` through a temporary file; returns a problem or undefined. */
async function writeVerified(
  input: ReadableStream<Uint8Array>,
  target: string,
  entry: ManifestFile,
): Promise<string | undefined> {
  const tmp = `${target}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  const output = await Deno.open(tmp, {
    write: true,
    createNew: true,
    mode: 0o644,
  });
  const hash = createHash("sha256");
  let bytes = 0;
  let renamed = false;
  try {
    const writer = output.writable.getWriter();
    try {
      for await (const chunk of input) {
        hash.update(chunk);
        bytes += chunk.byteLength;
        await writer.write(chunk);
      }
      await output.sync();
    } finally {
      await writer.close();
    }
    if (bytes !== entry.bytes) {
      return `size ${bytes} bytes, expected ${entry.bytes}`;
    }
    const actual = hash.digest("hex");
    if (actual !== entry.sha256) {
      return `sha256 ${actual}, expected ${entry.sha256}`;
    }
    await Deno.rename(tmp, target);
    renamed = true;
    return undefined;
  } finally {
    if (!renamed) await Deno.remove(tmp).catch(() => {});
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}
