/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Module worker for `inference_backends.ts`: loads one model on one backend
 * and times `run` inside the worker.
 *
 * @module
 */
import {
  type Backend,
  createInferenceSession,
  type InferenceSession,
  type Tensor,
} from "../../src/vision/inference.ts";

/** Messages from the bench to this worker. */
export type ToBenchWorker =
  | { type: "init"; model: string; backend: Backend; threads: number }
  | {
    type: "time";
    feeds: Record<string, Tensor>;
    warmup: number;
    runs: number;
    maxMs: number;
  }
  | { type: "run"; id: number; feeds: Record<string, Tensor> }
  | { type: "release" };

/** Messages from this worker to the bench. */
export type FromBenchWorker =
  | { type: "ready"; backend: Backend; loadMs: number; log: string[] }
  | { type: "times"; times: number[] }
  | { type: "ran"; id: number; outputs: Record<string, Tensor> }
  | { type: "released" }
  | { type: "error"; message: string };

let session: InferenceSession | undefined;

function post(message: FromBenchWorker): void {
  self.postMessage(message);
}

async function handle(message: ToBenchWorker): Promise<void> {
  if (message.type === "init") {
    const log: string[] = [];
    const start = performance.now();
    session = await createInferenceSession(message.model, {
      backend: message.backend,
      threads: message.threads,
      log: (line) => log.push(line),
    });
    post({
      type: "ready",
      backend: session.backend,
      loadMs: performance.now() - start,
      log,
    });
    return;
  }
  if (session === undefined) throw new Error("Worker got work before init");
  if (message.type === "time") {
    for (let i = 0; i < message.warmup; i++) await session.run(message.feeds);
    const times: number[] = [];
    const start = performance.now();
    while (
      times.length < message.runs &&
      (times.length < 3 || performance.now() - start < message.maxMs)
    ) {
      const t0 = performance.now();
      await session.run(message.feeds);
      times.push(performance.now() - t0);
    }
    post({ type: "times", times });
  } else if (message.type === "run") {
    // Outputs are small; they are copied, not transferred (a wasm output may
    // be a view into memory that cannot be transferred).
    const outputs = await session.run(message.feeds);
    post({ type: "ran", id: message.id, outputs });
  } else if (message.type === "release") {
    await session.release();
    session = undefined;
    post({ type: "released" });
  }
}

self.onmessage = (event: MessageEvent<ToBenchWorker>) => {
  handle(event.data).catch((error) => {
    post({
      type: "error",
      message: error instanceof Error ? error.message : String(error),
    });
  });
};
