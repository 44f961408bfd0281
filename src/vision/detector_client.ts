/**
 * The main-thread side of {@linkcode ./detector_worker.ts}: a detector that
 * runs in its own thread.
 *
 * @module
 */
import type { Detection, RgbImage } from "../shared/mod.ts";
import { deadline } from "../shared/mod.ts";
import type {
  FromDetectorWorker,
  ToDetectorWorker,
} from "./detector_worker.ts";
import type { ModelEntry } from "./model_manifest.ts";
import type { DetectOptions, LoadModelOptions } from "./models.ts";

const WORKER_URL = new URL("./detector_worker.ts", import.meta.url);

/**
 * Pixel buffers kept for the next images: one per image in flight (`read`
 * has one photo in the worker while the next is decoded).
 */
const MAX_SPARE_BUFFERS = 2;

/** A detector running in a Web Worker. */
export class WorkerDetector {
  #worker: Worker;
  #next = 1;
  #pending = new Map<number, PromiseWithResolvers<Detection[]>>();
  #closed: PromiseWithResolvers<void> = Promise.withResolvers();
  #spare: ArrayBuffer[] = [];
  #allocated = 0;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<FromDetectorWorker>) => {
      const msg = e.data;
      if ("buffer" in msg && msg.buffer) this.#giveBack(msg.buffer);
      if (msg.type === "result") {
        this.#pending.get(msg.id)?.resolve(msg.detections);
        this.#pending.delete(msg.id);
      } else if (msg.type === "error" && msg.id !== null) {
        this.#pending.get(msg.id)?.reject(new Error(msg.message));
        this.#pending.delete(msg.id);
      } else if (msg.type === "closed") {
        this.#closed.resolve();
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      // The worker died: nothing pending will ever be answered.
      e.preventDefault();
      for (const p of this.#pending.values()) {
        p.reject(new Error(`Detector worker stopped: ${e.message}`));
      }
      this.#pending.clear();
      this.#closed.resolve();
    };
  }

  /**
   * Starts the worker and loads the model in it.
   *
   * @param entry The model's manifest entry.
   * @param options Folder, backend, threads.
   * @returns The detector, once its model is loaded.
   */
  static async open(
    entry: ModelEntry,
    options: LoadModelOptions,
  ): Promise<WorkerDetector> {
    const worker = new Worker(WORKER_URL, { type: "module" });
    const ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<FromDetectorWorker>) => {
        if (e.data.type === "ready") resolve();
        else if (e.data.type === "error") reject(new Error(e.data.message));
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`Cannot start the detector worker: ${e.message}`));
      };
    });
    const { log: _log, ...load } = options;
    worker.postMessage(
      { type: "init", entry, load } satisfies ToDetectorWorker,
    );
    try {
      await ready;
    } catch (err) {
      worker.terminate();
      throw err;
    }
    return new WorkerDetector(worker);
  }

  /**
   * Pixel buffers made so far: the worker hands each one back with its
   * answer and the next image is copied into it, so this stays at the
   * number of images in flight at once.
   */
  get buffersAllocated(): number {
    return this.#allocated;
  }

  /**
   * Detects objects; the pixels are copied to the worker, so the caller
   * keeps its image. The copy goes into a buffer the worker gave back:
   * a fresh one per image (`data.slice()`) costs 5 ms for 720p, 9 ms for
   * 1080p, its pages being mapped anew, against 0.1 ms into a buffer
   * already mapped; `deno task bench read` went from 46.5-47.2 to
   * 42.6-45.6 ms per photo (720p stills, 2026-12-01).
   *
   * @param img The image.
   * @param options Classes (the threshold is the manifest's).
   * @returns Detections in source pixels, best first.
   */
  detect(img: RgbImage, options: DetectOptions = {}): Promise<Detection[]> {
    const id = this.#next++;
    const done = Promise.withResolvers<Detection[]>();
    this.#pending.set(id, done);
    const data = new Uint8Array(
      this.#buffer(img.data.length),
      0,
      img.data.length,
    );
    data.set(img.data);
    this.#worker.postMessage(
      {
        type: "detect",
        id,
        width: img.width,
        height: img.height,
        data,
        classIds: options.classIds,
      } satisfies ToDetectorWorker,
      [data.buffer],
    );
    return done.promise;
  }

  /** A spare buffer of at least `size` bytes, or a new one. */
  #buffer(size: number): ArrayBuffer {
    const i = this.#spare.findIndex((b) => b.byteLength >= size);
    if (i >= 0) return this.#spare.splice(i, 1)[0];
    this.#allocated++;
    return new ArrayBuffer(size);
  }

  /** Keeps a buffer the worker handed back, the largest ones first. */
  #giveBack(buffer: ArrayBuffer): void {
    this.#spare.push(buffer);
    this.#spare.sort((a, b) => b.byteLength - a.byteLength);
    this.#spare.length = Math.min(this.#spare.length, MAX_SPARE_BUFFERS);
  }

  /** Frees the model and ends the worker. */
  async close(): Promise<void> {
    this.#worker.postMessage({ type: "close" } satisfies ToDetectorWorker);
    // At most 2 s for the worker to free its model, then it is ended.
    await deadline(this.#closed.promise, 2000).catch(() => {});
    this.#worker.terminate();
  }
}
