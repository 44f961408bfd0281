/**
 * Installs and checks the model files listed in `models/models.json`. The
 * product ships no weights: the user copies them from a folder they trust,
 * and every file is checked against the manifest's sha256.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  type Manifest,
  type ManifestFile,
  type ModelSelection,
  parseManifest,
  selectModels,
} from "./model_manifest.ts";

/** The command that installs models, quoted in error messages. */
export const INSTALL_HINT = "deno task dashcam models install --from DIR";

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

/** What {@linkcode installModels} did. */
export interface InstallReport {
  /** Files copied and verified. */
  installed: string[];
  /** Files already present with the right sha256, left alone. */
  skipped: string[];
  /** Files not found in the source folder. */
  missing: string[];
  /** Files found in the source folder whose size or sha256 is wrong; nothing was written for them. */
  corrupt: FileProblem[];
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

/** Options for {@linkcode installModels}. */
export interface InstallModelsOptions {
  /** Folder to copy the files from. */
  from: string;
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
 * Copies the selected models (and their extra files) from a folder into the
 * models folder. Each file is hashed while it is copied into a temporary file
 * next to its target, synced, and renamed into place only when its sha256
 * matches, so a crash never leaves a half-written model. Files already
 * present with the right sha256 are skipped.
 *
 * @example Install the default models
 * ```ts ignore
 * const report = await installModels(await loadManifest(), { from: "/media/usb/models", to: "/var/lib/dashcam/models" });
 * ```
 * @param manifest The manifest.
 * @param options Source folder, target folder and selection.
 * @returns Which files were installed, skipped, missing or corrupt.
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
  };
  await Deno.mkdir(to, { recursive: true });
  for (const entry of listFiles(manifest, only)) {
    const target = join(to, entry.file);
    if ((await checkFile(target, entry)).status === "ok") {
      report.skipped.push(entry.file);
      continue;
    }
    const source = join(from, entry.file);
    let input: Deno.FsFile;
    try {
      input = await Deno.open(source, { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        report.missing.push(entry.file);
        continue;
      }
      throw error;
    }
    const problem = await copyVerified(input, target, entry);
    if (problem === undefined) {
      report.installed.push(entry.file);
    } else {
      report.corrupt.push({ file: entry.file, reason: problem });
    }
  }
  return report;
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
  options: CheckModelsOptions,
): Promise<void> {
  const report = await checkModels(manifest, options);
  const missing = report.missing[0];
  if (missing !== undefined) {
    throw new Error(
      `Cannot use models: ${
        join(options.dir, missing)
      } not found (install with: ${INSTALL_HINT})`,
    );
  }
  const corrupt = report.corrupt[0];
  if (corrupt !== undefined) {
    throw new Error(
      `Cannot use models: ${
        join(options.dir, corrupt.file)
      } is corrupt: ${corrupt.reason} (install with: ${INSTALL_HINT})`,
    );
  }
}

function listFiles(manifest: Manifest, only: ModelSelection): ManifestFile[] {
  if (only !== "default" && only !== "all") {
    throw new TypeError(
      `Cannot select models as 'only' must be default or all: current value is ${
        String(only)
      }`,
    );
  }
  return selectModels(manifest, only).flatMap((entry) => [
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
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { status: "missing" };
    throw error;
  }
  const info = await file.stat();
  if (!info.isFile) {
    file.close();
    return { status: "corrupt", reason: "not a regular file" };
  }
  if (info.size !== entry.bytes) {
    file.close();
    return {
      status: "corrupt",
      reason: `size ${info.size} bytes, expected ${entry.bytes}`,
    };
  }
  const hash = createHash("sha256");
  for await (const chunk of file.readable) hash.update(chunk);
  const actual = hash.digest("hex");
  if (actual !== entry.sha256) {
    return {
      status: "corrupt",
      reason: `sha256 ${actual}, expected ${entry.sha256}`,
    };
  }
  return { status: "ok" };
}

/** Copies `input` to `target` through a temporary file; returns a problem or undefined. */
async function copyVerified(
  input: Deno.FsFile,
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
      for await (const chunk of input.readable) {
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
