/**
 * What a dashcam's file name and folder say about a clip: which camera and
 * channel wrote it, and the local wall-clock time it starts at. Pure.
 *
 * **Camera id**: the name of the folder holding the clip (for a copy spooled
 * from removable media, the folder of the original), e.g. `van12` for
 * `/media/sd/van12/2026_0315_081502_F.MP4`. One folder per device is how
 * dashcams and fleet uploads lay clips out (`DCIM/Movie`, `inbox/<device>`);
 * the `cameras` config section is keyed by this id.
 *
 * **Channel**: the letters after the time stamp and sequence number at the
 * end of the name: `_F`/`_R` (Viofo, Thinkware, most two-channel cameras),
 * `0001F`, `_NF`/`_ER` (BlackVue: the first letter is the recording mode,
 * Normal/Event/Parking/Manual, the second the channel), `_I` (interior).
 * Front and rear of one device are separate cameras for tracking: a clip
 * continues only a clip of the same camera id and channel.
 *
 * @module
 */
import { basename, dirname, extname } from "node:path";
import type { WallTime } from "../shared/mod.ts";

/** Which camera wrote a clip. */
export interface CameraOfClip {
  /** The camera id: the folder's name (`""` at the file-system root). */
  cameraId: string;
  /** The channel letters from the name, upper case (`F`, `R`, `I`), or `""`. */
  channel: string;
}

/** BlackVue recording modes that precede the channel letter. */
const MODE_LETTERS = new Set(["N", "E", "P", "M"]);

/** A date-time in a name, and where it ends. */
interface NameTime {
  wall: WallTime;
  end: number;
}

function findNameTime(name: string): NameTime | null {
  const patterns: RegExp[] = [
    // 2023-11-24_15-30-12, 20231124_153012, 2023_1124_153012, 20231124T153012,
    // REC_2024_01_13_17_56_33
    /(?<!\d)(20\d\d)[-_]?(\d\d)[-_]?(\d\d)[-_T ]?(\d\d)[-_:]?(\d\d)[-_:]?(\d\d)(?!\d)/,
    // 231124-153012 (two-digit year)
    /(?<!\d)(\d\d)(\d\d)(\d\d)[-_](\d\d)(\d\d)(\d\d)(?!\d)/,
  ];
  for (const re of patterns) {
    const m = re.exec(name);
    if (!m) continue;
    const [y, month, day, hour, minute, second] = m.slice(1).map(Number);
    const year = y < 100 ? 2000 + y : y;
    if (
      month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 59
    ) continue;
    const d = new Date(Date.UTC(year, month - 1, day));
    if (d.getUTCDate() !== day) continue; // 31 February
    return {
      wall: { year, month, day, hour, minute, second },
      end: m.index + m[0].length,
    };
  }
  return null;
}

/**
 * The local wall-clock date-time in a dashcam file name:
 * `20231124_153012_F.mp4`, `2023-11-24-15-30-12.mp4`,
 * `FILE231124-153012.MP4`, `2023_1124_153012`. It has no zone: the camera's
 * `time_zone` setting says which.
 *
 * @example
 * ```ts
 * import { wallTimeFromName } from "./segment_name.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(wallTimeFromName("/sd/2026_0315_081502_F.MP4"), {
 *   year: 2026, month: 3, day: 15, hour: 8, minute: 15, second: 2,
 * });
 * ```
 * @param path The clip's path or name.
 * @returns The wall-clock time, or null when the name has none.
 */
export function wallTimeFromName(path: string): WallTime | null {
  return findNameTime(basename(path))?.wall ?? null;
}

/**
 * The camera and channel of a clip, from its folder and file name (see the
 * module doc for the rules).
 *
 * @example
 * ```ts
 * import { cameraOfClip } from "./segment_name.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(cameraOfClip("/sd/van12/2026_0315_081502_R.MP4"), {
 *   cameraId: "van12", channel: "R",
 * });
 * assert.deepEqual(cameraOfClip("/sd/bv/20240113_175633_NF.mp4"), {
 *   cameraId: "bv", channel: "F",
 * });
 * ```
 * @param path The clip's path (the original's, for a spooled copy).
 * @returns Camera id and channel.
 */
export function cameraOfClip(path: string): CameraOfClip {
  const cameraId = basename(dirname(path));
  const name = basename(path);
  const stem = name.slice(0, name.length - extname(name).length);
  const time = findNameTime(stem);
  const rest = time ? stem.slice(time.end) : stem;
  // The trailing letters after the last digit or separator.
  const m = /([A-Za-z]{1,3})$/.exec(rest.replace(/[-_. ]+$/, ""));
  let channel = "";
  if (m && (time !== null || /[\d_-]/.test(rest))) {
    channel = m[1].toUpperCase();
    if (channel.length === 2 && MODE_LETTERS.has(channel[0])) {
      channel = channel[1];
    }
    // A whole word after the time (`_front`, `_clip`) is not a channel code.
    if (channel.length === 3) channel = "";
  }
  return { cameraId, channel };
}

/**
 * The key under which clips continue each other: camera id and channel.
 *
 * @param camera The clip's camera.
 * @returns `cameraId` or `cameraId/channel`.
 */
export function chainKey(camera: CameraOfClip): string {
  return camera.channel
    ? `${camera.cameraId}/${camera.channel}`
    : camera.cameraId;
}
