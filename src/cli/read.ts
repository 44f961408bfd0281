/**
 * `read FILE… [--json]`: reads plates from photos (jpg/png) and clips. One
 * line per file; with `--json` `{"file", "plates": [{text, confidence,
 * plate_bbox, car_bbox}]}` with plates most confident first. Photos are read
 * in-process; clips go through the whole pipeline and report their final
 * events.
 *
 * @module
 */
import { extname } from "node:path";
import {
  type ClipSubmission,
  Engine,
  lockDataDir,
  makeMissingModels,
  outboxSink,
} from "../daemon/mod.ts";
import { decodeImageFile } from "../ingest/image_decode.ts";
import { log } from "../log/mod.ts";
import { openDataDirOutbox } from "../sink/mod.ts";
import { makeDataDir } from "../shared/mod.ts";
import {
  FrameReader,
  type ImagePlate,
  type VehiclesPayload,
} from "../vision/frame_reader.ts";
import type { RgbImage } from "../shared/mod.ts";
import { configFromFlags, parseCommandArgs, UsageError } from "./common.ts";
import { shutdownSignal } from "./signals.ts";

/** Usage text. */
export const USAGE =
  "read FILE… [--json]      read plates from photos and clips";

const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png"]);

/**
 * Whether a path is read as a photo (by extension).
 *
 * @param path The file.
 * @returns True for jpg/jpeg/png.
 */
export function isImagePath(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

/** A photo decoded, its vehicles being detected. */
type Started =
  | { img: RgbImage; vehicles: Promise<VehiclesPayload>; error: null }
  | { img: null; vehicles: null; error: string };

interface FileResult {
  file: string;
  plates: ImagePlate[];
  error?: string;
}

/** Logs the stop and gives the exit code of a Ctrl-C (128 + SIGINT). */
function interrupted(what: "photos" | "clips"): number {
  log.warn(
    what === "clips"
      ? "interrupted; unfinished clips resume on the next start"
      : "interrupted; the photos left were not read",
  );
  return 130;
}

function printResult(r: FileResult, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(r));
    return;
  }
  if (r.error) {
    console.log(`${r.file}: error: ${r.error}`);
    return;
  }
  const plates = r.plates.map((p) =>
    `${p.text} (${(p.confidence * 100).toFixed(1)}%)`
  );
  console.log(`${r.file}: ${plates.length ? plates.join(", ") : "no plate"}`);
}

/**
 * Runs the command. SIGINT or SIGTERM (the CLI's shutdown signal) stops it
 * after the photo being read, as `process` does: exit 130, unfinished clips
 * resume on the next start.
 *
 * @param args Arguments after `read`.
 * @param options The stop signal. @default {the CLI's shutdown signal}
 * @returns 0 when every file could be read, 130 when interrupted, else 1.
 */
export async function runRead(
  args: string[],
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const signal = options.signal ?? shutdownSignal;
  const { values, positionals } = parseCommandArgs(args, {});
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("read needs at least one file: read FILE… [--json]");
  }
  const config = await configFromFlags(values);
  await makeMissingModels(config, {
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
  });
  const json = Boolean(values.json);
  let ok = true;
  const images = positionals.filter(isImagePath);
  const clips = positionals.filter((p) => !isImagePath(p));
  if (images.length) {
    // The fastest arrangement measured (`deno task bench read`): the
    // vehicle detector in its own worker, the plate detector and the OCR on
    // this thread, one thread per session; while this thread reads photo
    // i, photo i+1 is decoded (sharp works on its own threads) and its
    // vehicles are detected in the worker.
    const reader = await FrameReader.open({
      modelsDir: config.models_dir,
      backend: config.inference.backend,
      threads: config.inference.threads,
      parallel: true,
      log: (m) => log.info(m),
      warn: (m) => log.warn(m),
      vision: config.vision,
      loaded: (stage, model) =>
        log.info("stage model loaded", { stage, model }),
    });
    try {
      if (signal.aborted) return interrupted("photos");
      const start = (file: string): Promise<Started> =>
        decodeImageFile(file).then(
          (img) => {
            const vehicles = reader.detectVehicles(img);
            vehicles.catch(() => {}); // awaited by read; never unhandled
            return { img, vehicles, error: null };
          },
          (err: Error) => ({
            img: null,
            vehicles: null,
            error: err.message.split("\n")[0],
          }),
        );
      let next = start(images[0]);
      for (const [i, file] of images.entries()) {
        const current = await next;
        if (signal.aborted) return interrupted("photos");
        if (i + 1 < images.length) next = start(images[i + 1]);
        try {
          if (current.error !== null) throw new Error(current.error);
          printResult({
            file,
            plates: await reader.read(current.img, current.vehicles),
          }, json);
        } catch (err) {
          ok = false;
          const error = (err as Error).message.split("\n")[0];
          log.error(error);
          printResult({ file, plates: [], error }, json);
        }
      }
    } finally {
      await reader.close();
    }
  }
  if (clips.length) {
    if (signal.aborted) return interrupted("clips");
    await makeDataDir(config.data_dir);
    // The lock comes first: a second process must change nothing.
    const lock = await lockDataDir(config.data_dir);
    const outbox = openDataDirOutbox(config.data_dir, { log });
    const subs: { file: string; sub: ClipSubmission }[] = [];
    const engine = await Engine.open(config, {
      log,
      lock,
      sink: outboxSink(outbox, { log }),
      // As in `process`: the clips' intake overlaps model loading.
      whileWorkersLoad: async (engine) => {
        for (const file of clips) {
          if (signal.aborted) return;
          subs.push({ file, sub: await engine.addClip(file) });
        }
      },
    }).catch((err) => {
      outbox.close();
      lock.release();
      throw err;
    });
    try {
      if (signal.aborted) return interrupted("clips");
      try {
        await engine.waitFor(
          subs.flatMap((s) => (s.sub.videoId ? [s.sub.videoId] : [])),
          { signal },
        );
      } catch (err) {
        if (signal.aborted) return interrupted("clips");
        throw err;
      }
      // No further segment comes: tracks held at a clip's end are reported.
      engine.releaseHeld(subs.flatMap((s) => s.sub.videoId ?? []));
      for (const { file, sub } of subs) {
        const video = sub.videoId ? engine.videoRow(sub.videoId) : null;
        if (!video || video.status !== "done") {
          ok = false;
          printResult({
            file,
            plates: [],
            error: video?.error ?? sub.error ?? "failed",
          }, json);
          continue;
        }
        const plates = outbox.eventsForVideos([video.video_id])
          .map((e) => ({
            text: e.finalPlate,
            confidence: e.plateConfidence,
            plate_bbox: e.plateBbox,
            car_bbox: e.carBbox,
          }))
          .sort((a, b) => b.confidence - a.confidence);
        printResult({ file, plates }, json);
      }
    } finally {
      await engine.close({ deadlineMs: 5000 });
      outbox.close();
      lock.release();
    }
  }
  return ok ? 0 : 1;
}
