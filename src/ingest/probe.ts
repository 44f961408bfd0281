/**
 * ffprobe: what a clip is (duration, fps, size, start time).
 *
 * @module
 */
import { probeArgs } from "./ffmpeg_args.ts";
import { startTimeFromName } from "./start_time.ts";
import { childEnv } from "./child_env.ts";
import { chooseVideoStream, type ProbeStream } from "./video_stream.ts";

/** What ffprobe says of a clip. */
export interface ClipInfo {
  /** Duration in seconds (0 when unknown). */
  durationS: number;
  /** Native frame rate (0 when unknown). */
  fps: number;
  /** Coded width. */
  width: number;
  /** Coded height. */
  height: number;
  /** Container creation time (ISO), when tagged. */
  creationTime: string | null;
  /**
   * Absolute index of the video stream that is the recording (see
   * {@linkcode chooseVideoStream}); decoding maps this stream (`-map 0:<i>`).
   */
  streamIndex: number;
}

/** A clip that cannot be used; the message is one line naming the file. */
export class BadClipError extends Error {
  /** Creates the error. */
  constructor(path: string, reason: string) {
    super(`Cannot use clip ${JSON.stringify(path)}: ${reason}`);
    this.name = "BadClipError";
  }
}

function parseRate(rate: unknown): number {
  if (typeof rate !== "string") return 0;
  const [n, d] = rate.split("/").map(Number);
  return d ? n / d : Number(n) || 0;
}

/**
 * Parses ffprobe's JSON. Pure.
 *
 * @param path The clip, for messages.
 * @param json ffprobe's output.
 * @returns The clip's description.
 * @throws {BadClipError} When there is no video stream.
 */
export function parseProbe(path: string, json: unknown): ClipInfo {
  const j = json as {
    streams?: ProbeStream[];
    format?: { duration?: string; tags?: Record<string, string> };
  };
  const v = chooseVideoStream(j.streams ?? []);
  if (!v) {
    throw new BadClipError(path, "no video stream");
  }
  const tags = {
    ...(j.format?.tags ?? {}),
    ...(v.tags as object ?? {}),
  } as Record<string, string>;
  const created = tags.creation_time ?? null;
  const createdMs = created ? Date.parse(created) : NaN;
  return {
    durationS: Number(j.format?.duration ?? v.duration ?? 0) || 0,
    fps: parseRate(v.avg_frame_rate) || parseRate(v.r_frame_rate),
    streamIndex: Number(v.index) || 0,
    width: Number(v.width),
    height: Number(v.height),
    // Cameras without a clock write 1970 or 2000-01-01; ignore such stamps.
    creationTime: Number.isFinite(createdMs) &&
        createdMs > Date.UTC(2001, 0, 1)
      ? new Date(createdMs).toISOString()
      : null,
  };
}

/**
 * Runs ffprobe on a clip.
 *
 * @param path The clip.
 * @returns Its description.
 * @throws {BadClipError} On a missing, unreadable or non-video file.
 */
export async function probeClip(path: string): Promise<ClipInfo> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("ffprobe", {
      args: probeArgs(path),
      clearEnv: true,
      env: childEnv(),
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        "Cannot run ffprobe: not installed (install Debian's ffmpeg package)",
      );
    }
    throw err;
  }
  if (!out.success) {
    const msg = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ??
      "";
    throw new BadClipError(path, msg.replace(/^.*?: /, "") || "ffprobe failed");
  }
  return parseProbe(path, JSON.parse(new TextDecoder().decode(out.stdout)));
}

/**
 * The clip's start time: the container's creation_time, else a timestamp in
 * the file name, else the file's mtime.
 *
 * @param path The clip.
 * @param info Its probe.
 * @param options The name the camera gave the file, when `path` is a spooled copy.
 * @returns ISO start time and where it came from.
 */
export async function clipStartTime(
  path: string,
  info: ClipInfo,
  options: { originalName?: string } = {},
): Promise<{ startTime: string; source: "container" | "name" | "mtime" }> {
  if (info.creationTime) {
    return { startTime: info.creationTime, source: "container" };
  }
  const fromName = startTimeFromName(options.originalName ?? path);
  if (fromName) return { startTime: fromName, source: "name" };
  const st = await Deno.stat(path);
  // mtime is when the camera closed the file, i.e. the clip's end.
  const end = (st.mtime ?? new Date()).getTime();
  return {
    startTime: new Date(end - info.durationS * 1000).toISOString(),
    source: "mtime",
  };
}
