/**
 * The configuration's shape and its defaults. Pure: no I/O.
 *
 * @module
 */
import { TASK_CATEGORIES, type TaskCategory } from "../shared/mod.ts";
import {
  CAMERA_DEFAULTS,
  type CamerasConfig,
  type SegmentsConfig,
} from "./cameras.ts";

/** Inference backends a user can choose. */
export const BACKENDS = ["auto", "native", "wasm", "webgpu"] as const;

/** Log levels a user can choose. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;

/** TLS modes for the Postgres connection. */
export const TLS_MODES = [
  "disable",
  "prefer",
  "require",
  "verify-full",
] as const;

/** The whole, validated configuration. Keys are the JSON file's keys. */
export interface Config {
  /** Folder for pipeline.db, outbox.db, frames, crops and evidence. */
  data_dir: string;
  /** Folder holding the ONNX models listed in models/models.json. */
  models_dir: string;
  /** Folders watched for new clips by `run` (SD card folder, USB mount points). */
  inbox_dirs: string[];
  /** How `run` takes clips from the inbox folders. */
  inbox: {
    /** Seconds a clip's size and mtime must stay unchanged before it is taken. */
    settle_s: number;
    /** Seconds between full rescans (watch events get lost across remounts). */
    rescan_s: number;
    /** Path prefixes of removable media: clips there are first copied to the local spool. */
    removable_prefixes: string[];
    /** No new clip is spooled while the data dir's file system has less free space than this (MiB). */
    min_free_mb: number;
    /** Delete a clip from the inbox once its events are in the outbox (off: originals are never touched). */
    delete_originals: boolean;
  };
  /** Daemon settings. */
  daemon: {
    /** Seconds running tasks get to finish at shutdown before they are released. */
    shutdown_deadline_s: number;
    /** Clips are not taken while more tasks than this are queued (frames of clips not decoded yet count as tasks). */
    max_queued_tasks: number;
    /** Seconds between sync passes while Postgres is healthy. */
    sync_interval_s: number;
    /** Days a synced event (and its evidence crop) stays on the vehicle; 0 keeps them forever. Unsynced events are never pruned. */
    retention_days: number;
    /** Port of the localhost-only health and Prometheus endpoint; 0 turns it off. */
    health_port: number;
  };
  /** Frames sampled per second of video. */
  sampling_fps: number;
  /**
   * ffmpeg decoder threads per clip; null takes half the CPU cores (at
   * least 1), leaving the rest to inference (see decodeThreads).
   */
  decode_threads: number | null;
  /** Log level. */
  log_level: typeof LOG_LEVELS[number];
  /** Web Workers per task category. */
  workers: Record<TaskCategory, number>;
  /** Categories one worker serves together (see src/daemon/worker_layout.ts). */
  worker_groups: TaskCategory[][];
  /** Inference settings. */
  inference: {
    /** Backend: auto picks WebGPU on a real GPU, else the fastest CPU backend. */
    backend: typeof BACKENDS[number];
    /** Threads per inference session. */
    threads: number;
  };
  /** Vision stage settings: photos (`read`) and clip frames get the same. */
  vision: {
    /** Model file per task from models/models.json; null takes the manifest's default. */
    models: {
      vehicle_detect: string | null;
      plate_detect: string | null;
      ocr: string | null;
    };
    /** A plate is reported only when its agreeing reads have at least this mean confidence (0..1). */
    min_plate_confidence: number;
  };
  /** Task graph settings. */
  graph: {
    /** Seconds a claimed task stays leased before another worker may take it. */
    lease_s: number;
    /** Attempts before a task ends `failed`. */
    max_attempts: number;
    /** Milliseconds before a failed attempt is retried (doubles each attempt). */
    retry_backoff_ms: number;
    /** Seconds one task may run before its worker is replaced. */
    task_timeout_s: number;
    /** Milliseconds between polls when idle. */
    poll_ms: number;
    /** Keep the tasks and results of finished clips instead of pruning them. */
    keep_finished: boolean;
    /** Decoding pauses while more frames than this are on disk. */
    max_frames_on_disk: number;
  };
  /** Fleet Postgres settings; sync is off while `url` is null. */
  pg: {
    /** Connection URL, e.g. postgres://user@host:5432/dashcam_final. */
    url: string | null;
    /** File holding the password (systemd credential), when not in the URL. */
    password_file: string | null;
    /** TLS mode. */
    tls: typeof TLS_MODES[number];
    /** This vehicle's id, stored with every event. */
    device_id: string;
    /** Rows sent per batch. */
    batch_size: number;
  };
  /** GPS of clips (issue 13). */
  gps: {
    /** ExifTool program that reads GPS embedded in clips; null reads sidecars (.nmea, .gps, R50 .dat) only. */
    exiftool: string | null;
  };
  /** Pictures of events in the fleet database (issue 13). */
  evidence: {
    /** Send each synced event's plate and vehicle crops to the fleet's vehicle_evidence; false keeps pictures on the box only. */
    sync: boolean;
    /** Largest picture sent, KiB (a larger one stays on the box). */
    max_kb: number;
  };
  /** Module providing the stage handlers (tests and extensions swap it); null = the built-in vision stages. */
  handlers_module: string | null;
  /** Inference only where it pays (README "Skipping"). */
  skipping: {
    /** Skip the detectors on frames that barely differ from the last one processed, and OCR on plates a track has already read the same way three times; false runs every stage on every sampled frame. */
    enabled: boolean;
  };
  /** Per-camera clock settings, keyed by camera id (the clip's folder name), plus `default` (see cameras.ts). */
  cameras: CamerasConfig;
  /** How consecutive segments of one camera continue each other's tracks. */
  segments: SegmentsConfig;
}

/** Defaults: embedded SQLite, local outbox, no Postgres. */
export const DEFAULTS = {
  data_dir: "./data",
  models_dir: "./models",
  inbox_dirs: [],
  inbox: {
    settle_s: 3,
    rescan_s: 10,
    removable_prefixes: ["/media", "/run/media", "/mnt"],
    min_free_mb: 512,
    delete_originals: false,
  },
  daemon: {
    shutdown_deadline_s: 20,
    max_queued_tasks: 2000,
    sync_interval_s: 30,
    retention_days: 30,
    health_port: 0,
  },
  sampling_fps: 5,
  // One decoder thread on 2 cores: the same frames of the 7 media clips
  // took 25 % less CPU than with ffmpeg's one thread per core, CPU that
  // inference running beside it gets instead.
  decode_threads: null,
  log_level: "info",
  // Two workers on 2 cores: the plate detector (the slowest stage) alone,
  // and the other stages together, clip-end stages first (short, and they
  // give a clip its events), then the OCR (finishes tracks), then the
  // vehicle detector. `process` of the 7 media clips, three runs each
  // side by side (2026-12-01): 12.27-13.82 s, peak RSS 283-291 MiB of deno
  // and 402-408 MiB with its children, against 12.27-13.89 s, 300-316 MiB
  // and 421-424 MiB with the clip-end stages in a third worker. Earlier
  // (2026-11-30) that layout took 13.9-14.2 s and 296-308 MiB, against
  // 15.1-16.4 s and 397-407 MiB with six workers (two plate detectors, no
  // groups).
  workers: {
    vehicle_detect: 1,
    plate_detect: 1,
    ocr: 1,
    plate_smooth: 1,
    summary: 1,
  },
  worker_groups: [["plate_smooth", "summary", "ocr", "vehicle_detect"]],
  inference: { backend: "auto", threads: 1 },
  vision: {
    models: { vehicle_detect: null, plate_detect: null, ocr: null },
    // Unreadable (far, blurred) plates spread their character
    // probabilities, so their mean stays low (see src/vision/smooth.ts).
    min_plate_confidence: 0.6,
  },
  graph: {
    lease_s: 120,
    max_attempts: 3,
    retry_backoff_ms: 1000,
    task_timeout_s: 60,
    poll_ms: 100,
    keep_finished: false,
    // 16 frames keep every worker fed (48 was no faster on the media clips)
    // and bound the buffer: 43 MB at 720p, 100 MB at 1080p, 400 MB at 4K.
    max_frames_on_disk: 16,
  },
  pg: {
    url: null,
    password_file: null,
    tls: "prefer",
    device_id: "dashcam",
    batch_size: 500,
  },
  gps: { exiftool: "exiftool" },
  evidence: { sync: true, max_kb: 256 },
  handlers_module: null,
  skipping: { enabled: true },
  cameras: CAMERA_DEFAULTS.cameras,
  segments: CAMERA_DEFAULTS.segments,
} satisfies Config;

/** The task categories, re-exported for config users. */
export { TASK_CATEGORIES };
