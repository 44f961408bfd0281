/**
 * What the daemon needs before it starts: the model files it will load and
 * ffmpeg/ffprobe. Missing either is not something a restart fixes, so `run`
 * exits with {@linkcode EX_CONFIG}, which `systemd/dashcam.service` lists in
 * `RestartPreventExitStatus=`, instead of being restarted every 2 s for ever.
 * A derived default model that an update added is made at start from the
 * installed files it derives from ({@linkcode makeMissingModels}), and one
 * that cannot be made is stood in for with a warning, as the stages do.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import {
  checkModels,
  INSTALL_HINT,
  loadManifest,
  makeDerivedModels,
  standInFor,
} from "../vision/model_store.ts";
import { join } from "node:path";
import { commandName, pgHostProblem } from "../shared/build_info.ts";

/** `EX_CONFIG` of sysexits.h: a configuration or installation error. */
export const EX_CONFIG = 78;

/** The daemon cannot start until someone installs something; one line. */
export class NotReadyError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "NotReadyError";
  }
}

/** Options for {@linkcode checkReady}. */
export interface CheckReadyOptions {
  /** Programs that must run (`NAME -version`). @default {["ffmpeg", "ffprobe"]} */
  programs?: string[];
  /** Receives one line per derived model replaced by its upstream file. */
  warn?: (message: string) => void;
}

/** Where {@linkcode makeMissingModels} reports. */
export interface MakeMissingModelsOptions {
  /** Receives one line per model made. */
  info: (message: string) => void;
  /** Receives one line per model that could not be made. */
  warn: (message: string) => void;
}

/**
 * Makes the derived default models missing or corrupt in
 * `config.models_dir` from the installed files they derive from (their
 * upstream file, or a model derived from it; offline, see
 * `makeDerivedModels`), so a build whose default is a newer derivation runs
 * it without a `models install`. Nothing happens with custom stage
 * handlers (`handlers_module`), or when nothing is missing.
 *
 * @param config The loaded config.
 * @param options Where to report what was made and what could not be.
 */
export async function makeMissingModels(
  config: Config,
  options: MakeMissingModelsOptions,
): Promise<void> {
  if (config.handlers_module !== null) return;
  const report = await makeDerivedModels(await loadManifest(), {
    dir: config.models_dir,
  });
  for (const file of report.derived) {
    options.info(
      `made model ${join(config.models_dir, file)} from the installed ${
        report.sources[file]
      }`,
    );
  }
  for (const note of report.fallback) {
    options.warn(
      `cannot make model ${
        join(config.models_dir, note.file)
      } from ${note.source}: ${note.reason}`,
    );
  }
}

async function programProblem(name: string): Promise<string | null> {
  try {
    const { success } = await new Deno.Command(name, {
      args: ["-version"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success ? null : `${name} -version failed`;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return `${name} not found on PATH`;
    }
    return `cannot run ${name}: ${(err as Error).message.split("\n")[0]}`;
  }
}

/**
 * Lists what keeps the daemon from starting: each default model file
 * missing or corrupt in `config.models_dir` (only with the built-in vision
 * stages, `handlers_module: null`) that no intact upstream file can stand
 * in for (a derived model's; `options.warn` is told when one does), a
 * `pg.url` host this binary may not connect to (see `pgHostProblem`), and
 * ffmpeg/ffprobe not runnable.
 *
 * @param config The loaded config.
 * @param options Programs to check.
 * @returns One short phrase per problem; empty when ready.
 */
export async function checkReady(
  config: Config,
  options: CheckReadyOptions = {},
): Promise<string[]> {
  const problems: string[] = [];
  if (config.handlers_module === null) {
    const manifest = await loadManifest();
    const dir = config.models_dir;
    const report = await checkModels(manifest, { dir, only: "default" });
    const bad = [
      ...report.missing.map((file) => ({
        file,
        problem: `model ${join(dir, file)} not found`,
      })),
      ...report.corrupt.map((c) => ({
        file: c.file,
        problem: `model ${join(dir, c.file)} is corrupt (${c.reason})`,
      })),
    ];
    for (const { file, problem } of bad) {
      const standIn = await standInFor(manifest, file, {
        dir,
        warn: options.warn,
      });
      if (standIn === undefined) problems.push(problem);
    }
    if (problems.length > 0) {
      problems.push(
        `install the models with: ${
          INSTALL_HINT.replace("deno task dashcam", commandName())
        }`,
      );
    }
  }
  if (config.pg.url !== null) {
    const problem = pgHostProblem(config.pg.url);
    if (problem !== null) problems.push(problem);
  }
  let programsMissing = false;
  for (const name of options.programs ?? ["ffmpeg", "ffprobe"]) {
    const problem = await programProblem(name);
    if (problem !== null) problems.push(problem);
    programsMissing ||= problem !== null;
  }
  if (programsMissing) {
    problems.push("install ffmpeg with: sudo apt-get install -y ffmpeg");
  }
  return problems;
}

/**
 * Throws when the daemon cannot start (see {@linkcode checkReady}).
 *
 * @param config The loaded config.
 * @param options Programs to check.
 * @throws {NotReadyError} One line listing every problem.
 */
export async function assertReady(
  config: Config,
  options: CheckReadyOptions = {},
): Promise<void> {
  const problems = await checkReady(config, options);
  if (problems.length > 0) {
    throw new NotReadyError(
      `Cannot start the daemon: ${problems.join("; ")}`,
    );
  }
}
