/**
 * Debian's ExifTool (`libimage-exiftool-perl`) as a subprocess, owned by
 * ingest like ffmpeg: it reads the GPS that dashcams and action cameras
 * embed (Novatek/Viofo, BlackVue, GoPro GPMF, Garmin, Nextbase, Thinkware,
 * DJI, …) with `-ee3` (extract embedded data from the whole file). It runs
 * with the same cleaned environment as ffmpeg (no credentials).
 *
 * @module
 */
import { childEnv } from "./child_env.ts";

/**
 * The options for reading a file: every embedded document, numbers
 * unconverted, Doc groups named, JSON, UTF-8 file names.
 */
export function exiftoolOptions(): string[] {
  return [
    "-ee3",
    "-n",
    "-G3",
    "-j",
    "-api",
    "LargeFileSupport=1",
    "-charset",
    "filename=utf8",
  ];
}

/** The arguments for one file: {@linkcode exiftoolOptions}, then the path. */
export function exiftoolArgs(path: string): string[] {
  return [...exiftoolOptions(), "--", path];
}

/** Options for {@linkcode runExiftool}. */
export interface ExiftoolOptions {
  /** Program to run. @default {"exiftool"} */
  bin?: string;
  /** Stops the run. */
  signal?: AbortSignal;
}

/**
 * What to throw when ExifTool cannot be started: one line saying how to
 * install it when the program is missing, else the error itself.
 *
 * @param bin The program.
 * @param err What starting it threw.
 * @returns The error to throw.
 */
export function exiftoolSpawnError(bin: string, err: unknown): unknown {
  if (!(err instanceof Deno.errors.NotFound)) return err;
  return new Error(
    `Cannot run ${bin}: not installed (install Debian's libimage-exiftool-perl)`,
  );
}

/**
 * Runs ExifTool on one file and returns its JSON record.
 *
 * @example Read a clip
 * ```ts ignore
 * const record = await runExiftool("/sd/clip.ts");
 * ```
 * @param path The file.
 * @param options Program, cancellation.
 * @returns The file's record (`Doc<N>:Tag` keys).
 * @throws {Error} One line naming the file when ExifTool fails or is missing.
 */
export async function runExiftool(
  path: string,
  options: ExiftoolOptions = {},
): Promise<Record<string, unknown>> {
  const { bin = "exiftool", signal } = options;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(bin, {
      args: exiftoolArgs(path),
      clearEnv: true,
      env: childEnv(),
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      ...(signal ? { signal } : {}),
    }).output();
  } catch (err) {
    throw exiftoolSpawnError(bin, err);
  }
  return parseExiftoolOutput(path, {
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    code: out.code,
  });
}

/**
 * The record in ExifTool's `-j` output for one file. Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const r = parseExiftoolOutput("/a.mp4", { stdout: '[{"SourceFile": "/a.mp4"}]', stderr: "" });
 * assert.equal(r.SourceFile, "/a.mp4");
 * ```
 * @param path The file (named in errors).
 * @param output What ExifTool wrote, and its exit code when known.
 * @returns The file's record.
 * @throws {Error} One line naming the file when there is no record (ExifTool's first stderr line).
 */
export function parseExiftoolOutput(
  path: string,
  output: { stdout: string; stderr: string; code?: number },
): Record<string, unknown> {
  const text = output.stdout.trim();
  if (text === "") {
    const msg = output.stderr.trim().split("\n")[0];
    throw new Error(
      `Cannot read GPS of ${JSON.stringify(path)} with exiftool: ${
        msg ||
        (output.code === undefined ? "no output" : `exit code ${output.code}`)
      }`,
    );
  }
  const parsed = JSON.parse(text) as unknown;
  const record = Array.isArray(parsed) ? parsed[0] : undefined;
  if (record === null || typeof record !== "object") {
    throw new Error(
      `Cannot read GPS of ${JSON.stringify(path)} with exiftool: no record`,
    );
  }
  return record as Record<string, unknown>;
}
