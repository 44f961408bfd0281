/**
 * The `cameras` and `segments` config sections: per-camera clock settings,
 * and how consecutive segments of one camera continue each other's tracks.
 * Pure: validation and look-up only.
 *
 * @module
 */
import { isTimeZone } from "../shared/mod.ts";

/** Whether a camera's container `creation_time` is UTC or local wall time. */
export const CREATION_TIME_KINDS = ["utc", "local"] as const;

/** One camera's settings (every key optional in the file; `default` fills the rest). */
export interface CameraSettings {
  /** IANA time zone of the camera's clock (`Europe/London`); names and local `creation_time` are read in it, and the terminal shows times in it. */
  time_zone: string;
  /** `utc`: the container's `creation_time` is UTC (phones, GoPro); `local`: it is the camera's wall clock labelled UTC (most dashcams). */
  creation_time: typeof CREATION_TIME_KINDS[number];
}

/** The `cameras` section: camera id (the clip's folder name) → settings, plus `default`. */
export type CamerasConfig = Record<string, Partial<CameraSettings>> & {
  default: CameraSettings;
};

/** The `segments` section. */
export interface SegmentsConfig {
  /** Seconds of gap or overlap allowed between one segment's end (start + duration) and the next one's start. */
  gap_s: number;
  /** A track seen within this many seconds of a segment's end (or start) may continue into the next segment (from the previous one). */
  edge_s: number;
  /** Seconds a track held at a segment's end waits for the next segment before it is reported alone. */
  hold_s: number;
}

/** Defaults: camera clocks are UTC (as before), segments contiguous within 2 s. */
export const CAMERA_DEFAULTS = {
  cameras: {
    default: { time_zone: "UTC", creation_time: "utc" },
  } as CamerasConfig,
  segments: { gap_s: 2, edge_s: 3, hold_s: 600 } as SegmentsConfig,
};

/** A bad camera/segment setting; one line naming the key. */
export class CameraConfigError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "CameraConfigError";
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(key: string, allowed: string, value: unknown): never {
  throw new CameraConfigError(
    `Invalid config '${key}': expected ${allowed}, got ${
      JSON.stringify(value)
    }`,
  );
}

/** Keys other helpers add to camera entries (validated by their own code). */
const OTHER_CAMERA_KEYS = new Set(["ignore_zones"]);

/**
 * Validates the `cameras` section: an object keyed by camera id, each
 * `{time_zone?, creation_time?}`, with `default` complete.
 *
 * @param raw The section as merged from defaults and the file.
 * @returns The section.
 * @throws {CameraConfigError} Naming the first bad key.
 */
export function validateCameras(raw: unknown): CamerasConfig {
  if (!isObject(raw)) bad("cameras", "an object keyed by camera id", raw);
  const out: Record<string, Partial<CameraSettings>> = {};
  for (const [id, entry] of Object.entries(raw)) {
    const key = `cameras.${id}`;
    if (!isObject(entry)) {
      bad(key, "an object with time_zone and creation_time", entry);
    }
    const settings: Partial<CameraSettings> & Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entry)) {
      if (k === "time_zone") {
        if (typeof v !== "string" || !isTimeZone(v)) {
          bad(`${key}.time_zone`, "an IANA time zone such as Europe/London", v);
        }
        settings.time_zone = v;
      } else if (k === "creation_time") {
        if (!CREATION_TIME_KINDS.includes(v as "utc")) {
          bad(
            `${key}.creation_time`,
            `one of ${CREATION_TIME_KINDS.join(", ")}`,
            v,
          );
        }
        settings.creation_time = v as CameraSettings["creation_time"];
      } else if (OTHER_CAMERA_KEYS.has(k)) {
        settings[k] = v;
      } else {
        throw new CameraConfigError(
          `Unknown config key '${key}.${k}': allowed keys are time_zone, creation_time, ${
            [...OTHER_CAMERA_KEYS].join(", ")
          }`,
        );
      }
    }
    out[id] = settings;
  }
  const def = {
    ...CAMERA_DEFAULTS.cameras.default,
    ...(out.default ?? {}),
  } as CameraSettings;
  return { ...out, default: def } as CamerasConfig;
}

/**
 * A camera's settings: its own entry over `default`.
 *
 * @param cameras The section.
 * @param cameraId The camera id (the clip's folder name).
 * @returns The settings.
 */
export function cameraSettings(
  cameras: CamerasConfig,
  cameraId: string,
): CameraSettings {
  const own = Object.hasOwn(cameras, cameraId) ? cameras[cameraId] : {};
  return {
    time_zone: own.time_zone ?? cameras.default.time_zone,
    creation_time: own.creation_time ?? cameras.default.creation_time,
  };
}
