/**
 * ffprobe: what a clip is (duration, fps, size, start time).
 *
 * @module
 */
import { probeArgs } from "./ffmpeg_args.ts";
import { creationTimeInZone, startTimeFromName } from "./start_time.ts";
import { childEnv } from "./child_env.ts";
import { chooseVideoStream, type ProbeStream } from "./video_stream.ts";

/** What ffprobe says of a clip. */
export interface ClipInfo {
  /** Duration in seconds (0 when unknown). */
  durationS: number;
  /** Native frame rate (0 when unknown). */
  fps: number;
  /** Width as displayed: the coded width, or the height for a clip rotated by 90 or 270 degrees (frames are decoded upright). */
  width: number;
  /** Height as displayed. */
  height: number;
  /** Clockwise rotation the clip's display matrix asks for, degrees (0, 90, 180, 270); ffmpeg applies it when decoding. */
  rotation: number;
  /** Presentation time of the recording's first frame from the clip's start, seconds (0 for most files). */
  streamStartS: number;
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
 * The clockwise rotation a stream's display matrix asks for, in degrees 0,
 * 90, 180 or 270: ffprobe's `side_data_list` "Display Matrix" `rotation`
 * (counter-clockwise, so negated), else the older `rotate` tag (clockwise).
 * Phones and some dashcams (mounted upside down) record this way; ffmpeg
 * turns the frames upright when decoding (`-autorotate`, on by default).
 *
 * @param v The stream.
 * @returns Degrees clockwise.
 */
export function displayRotation(v: ProbeStream): number {
  const side = (v.side_data_list as Array<Record<string, unknown>> | undefined)
    ?.find((d) => d.side_data_type === "Display Matrix");
  let cw = 0;
  if (side && Number.isFinite(Number(side.rotation))) {
    cw = -Number(side.rotation);
  } else {
    const tag = Number((v.tags as Record<string, string> | undefined)?.rotate);
    if (Number.isFinite(tag)) cw = tag;
  }
  return ((Math.round(cw / 90) * 90) % 360 + 360) % 360;
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
    format?: {
      duration?: string;
      start_time?: string;
      tags?: Record<string, string>;
    };
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
  const rotation = displayRotation(v);
  const sideways = rotation === 90 || rotation === 270;
  const streamStart = Number(v.start_time) -
    (Number(j.format?.start_time) || 0);
  return {
    durationS: Number(j.format?.duration ?? v.duration ?? 0) || 0,
    fps: parseRate(v.avg_frame_rate) || parseRate(v.r_frame_rate),
    streamIndex: Number(v.index) || 0,
    width: Number(sideways ? v.height : v.width),
    height: Number(sideways ? v.width : v.height),
    rotation,
    streamStartS: Number.isFinite(streamStart) && streamStart > 0
      ? Math.round(streamStart * 1e6) / 1e6
      : 0,
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

/** Options for {@linkcode clipStartTime}. */
export interface ClipStartTimeOptions {
  /** The name the camera gave the file, when `path` is a spooled copy. */
  originalName?: string;
  /** IANA zone of the camera's clock (names are read in it). @default {"UTC"} */
  timeZone?: string;
  /** Whether the container's creation_time is UTC or the camera's local time. @default {"utc"} */
  creationTime?: "utc" | "local";
}

/**
 * The clip's start time: the container's creation_time, else a timestamp in
 * the file name, else the file's mtime. Names, and a `creation_time` the
 * camera writes in local time, are read in the camera's zone.
 *
 * @param path The clip.
 * @param info Its probe.
 * @param options Original name and the camera's clock settings.
 * @returns ISO start time and where it came from.
 */
export async function clipStartTime(
  path: string,
  info: ClipInfo,
  options: ClipStartTimeOptions = {},
): Promise<{ startTime: string; source: "container" | "name" | "mtime" }> {
  const timeZone = options.timeZone ?? "UTC";
  if (info.creationTime) {
    return {
      startTime: creationTimeInZone(info.creationTime, {
        timeZone,
        creationTime: options.creationTime ?? "utc",
      }),
      source: "container",
    };
  }
  const fromName = startTimeFromName(options.originalName ?? path, {
    timeZone,
  });
  if (fromName) return { startTime: fromName, source: "name" };
  const st = await Deno.stat(path);
  // mtime is when the camera closed the file, i.e. the clip's end.
  const end = (st.mtime ?? new Date()).getTime();
  return {
    startTime: new Date(end - info.durationS * 1000).toISOString(),
    source: "mtime",
  };
}
