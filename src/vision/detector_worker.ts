/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * A detector in its own Web Worker, so `read` can run the vehicle and plate
 * detectors at the same time (onnxruntime-node's `run` holds the calling
 * thread). Messages are {@linkcode ToDetectorWorker} and
 * {@linkcode FromDetectorWorker}.
 *
 * @module
 */
import type { Detection } from "../shared/mod.ts";
import type { ModelEntry } from "./model_manifest.ts";
import { Detector, type LoadModelOptions } from "./models.ts";

/** Sent to the worker. */
export type ToDetectorWorker =
  | { type: "init"; entry: ModelEntry; load: Omit<LoadModelOptions, "log"> }
  | {
    type: "detect";
    id: number;
    width: number;
    height: number;
    data: Uint8Array;
    classIds?: number[];
  }
  | { type: "close" };

/**
 * Sent by the worker. The answer to a `detect` hands its pixel buffer
 * back (`buffer`, transferred) for the client's next image.
 */
export type FromDetectorWorker =
  | { type: "ready" }
  | {
    type: "error";
    id: number | null;
    message: string;
    buffer?: ArrayBuffer;
  }
  | {
    type: "result";
    id: number;
    detections: Detection[];
    buffer: ArrayBuffer;
  }
  | { type: "closed" };

let detector: Detector | null = null;

function post(msg: FromDetectorWorker): void {
  const buffer = "buffer" in msg ? msg.buffer : undefined;
  self.postMessage(msg, buffer ? [buffer] : []);
}

/**
 * Messages are handled one at a time: a detect that arrives while one is
 * running waits for it (the detector reuses its input buffer, and one
 * session runs one call at a time).
 */
let queue: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<ToDetectorWorker>) => {
  const msg = event.data;
  queue = queue.then(() => handle(msg));
};

async function handle(msg: ToDetectorWorker): Promise<void> {
  try {
    if (msg.type === "init") {
      detector = await Detector.load(msg.entry, msg.load);
      post({ type: "ready" });
    } else if (msg.type === "detect") {
      const detections = await detector!.detect(
        { width: msg.width, height: msg.height, data: msg.data },
        { classIds: msg.classIds },
      );
      post({
        type: "result",
        id: msg.id,
        detections,
        buffer: msg.data.buffer as ArrayBuffer,
      });
    } else if (msg.type === "close") {
      await detector?.close();
      post({ type: "closed" });
    }
  } catch (err) {
    post({
      type: "error",
      id: msg.type === "detect" ? msg.id : null,
      message: (err as Error).message.split("\n")[0],
      ...(msg.type === "detect"
        ? { buffer: msg.data.buffer as ArrayBuffer }
        : {}),
    });
  }
}
