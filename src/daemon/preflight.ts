/**
 * What the daemon needs before it starts: the model files it will load and
 * ffmpeg/ffprobe. Missing either is not something a restart fixes, so `run`
 * exits with {@linkcode EX_CONFIG}, which `systemd/dashcam.service` lists in
 * `RestartPreventExitStatus=`, instead of being restarted every 2 s for ever.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import {
  checkModels,
  INSTALL_HINT,
  loadManifest,
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
 * stages, `handlers_module: null`), a `pg.url` host this binary may not
 * connect to (see `pgHostProblem`), and ffmpeg/ffprobe not runnable.
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
    const report = await checkModels(await loadManifest(), {
      dir: config.models_dir,
      only: "default",
    });
    for (const file of report.missing) {
      problems.push(`model ${join(config.models_dir, file)} not found`);
    }
    for (const c of report.corrupt) {
      problems.push(
        `model ${join(config.models_dir, c.file)} is corrupt (${c.reason})`,
      );
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
