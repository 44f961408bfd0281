/**
 * Trivial stage handlers for engine tests: they read real frames and fan out
 * deterministically from the pixels, without models.
 *
 * - vehicle_detect: mean brightness of the frame → one plate_detect child.
 * - plate_detect → one ocr child.
 * - ocr: text `P<frame_idx div 5>` (so 5 consecutive frames share a "plate").
 * - plate_smooth: groups the clip's reads by text → one summary per group.
 * - summary: the final event.
 *
 * Failures are injected through the handler options (`init.options`, given
 * to the engine as `handlerOptions`; see {@linkcode TrivialOptions}), so an
 * in-process test changes nothing global. Tests that start `run` as a
 * subprocess set the same switches in that process's own environment:
 * `TRIVIAL_THROW_FRAME=n`, `TRIVIAL_THROW_ALL=1`, `TRIVIAL_CRASH_FRAME=n`,
 * `TRIVIAL_DELAY_MS=n`, `TRIVIAL_WRITE_CROP=1`, and
 * `TRIVIAL_INIT_FAIL_IF=path` (handler creation fails while that file
 * exists). Options win over the environment.
 *
 * @module
 */
import type {
  CreateStageHandler,
  StageHandler,
  StageOutput,
  TaskCategory,
} from "../../src/shared/mod.ts";

/** Failure switches of the trivial handlers (all off by default). */
export interface TrivialOptions {
  /** vehicle_detect throws on this frame. */
  throwFrame?: number;
  /** vehicle_detect throws on every frame. */
  throwAll?: boolean;
  /** The worker dies on this frame, on the first attempt. */
  crashFrame?: number;
  /** Every frame task takes this many ms longer (slow models). */
  delayMs?: number;
  /** ocr writes a crop file under DATA_DIR/crops, as the real stage does. */
  writeCrop?: boolean;
  /**
   * Handler creation waits until this file exists, as a worker loading a
   * model would (fails after 60 s, so a test waiting for it cannot hang).
   */
  initGate?: string;
  /** Handler creation fails, as with a missing model. */
  initFail?: boolean;
}

/**
 * Resolves once `path` exists (polled every 10 ms); rejects after `limitMs`
 * (`Infinity`: never).
 */
export async function fileAppears(
  path: string,
  limitMs: number,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      await Deno.stat(path);
      return;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Cannot load handler: ${path} never appeared`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The switches a subprocess got in its environment. */
function optionsFromEnv(): TrivialOptions {
  const int = (name: string) => {
    const v = Deno.env.get(name);
    return v === undefined ? undefined : Number(v);
  };
  return {
    throwFrame: int("TRIVIAL_THROW_FRAME"),
    throwAll: Deno.env.get("TRIVIAL_THROW_ALL") === "1",
    crashFrame: int("TRIVIAL_CRASH_FRAME"),
    delayMs: int("TRIVIAL_DELAY_MS"),
    writeCrop: Deno.env.get("TRIVIAL_WRITE_CROP") === "1",
  };
}

/** Creates the trivial handler of a category. */
export const createStageHandler: CreateStageHandler = async (
  category: TaskCategory,
  init,
): Promise<StageHandler> => {
  const failIf = Deno.env.get("TRIVIAL_INIT_FAIL_IF");
  if (failIf) {
    try {
      Deno.statSync(failIf);
      throw new Error(`Cannot use model ${failIf}: planted start-up failure`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  const options: TrivialOptions = {
    ...optionsFromEnv(),
    ...init.options as TrivialOptions,
  };
  if (options.initGate) await fileAppears(options.initGate, 60_000);
  if (options.initFail) {
    throw new Error("Cannot use model test.onnx: planted start-up failure");
  }
  return handler(category, init.dataDir, options);
};

function handler(
  category: TaskCategory,
  dataDir: string,
  options: TrivialOptions,
): StageHandler {
  return {
    async run(task, ctx): Promise<StageOutput> {
      const delay = options.delayMs;
      if (delay && task.frameIdx !== null) {
        await new Promise((r) => setTimeout(r, delay));
      }
      switch (category) {
        case "vehicle_detect": {
          if (
            task.frameIdx === options.throwFrame || options.throwAll
          ) {
            throw new Error(`planted failure on frame ${task.frameIdx}`);
          }
          if (
            task.frameIdx === options.crashFrame &&
            task.attempt === 1
          ) {
            // An uncaught error kills the worker mid-task, as a native crash would.
            setTimeout(() => {
              throw new Error("planted worker crash");
            }, 0);
            await new Promise(() => {});
          }
          const img = await ctx.readFrame(task.payloadRef);
          let sum = 0;
          for (let i = 0; i < img.data.length; i += 3) sum += img.data[i];
          const mean = Math.round(sum / (img.width * img.height));
          return { mean, next: [{ meta: { mean } }] };
        }
        case "plate_detect":
          return { next: [{ meta: { mean: task.meta.mean } }] };
        case "ocr":
          if (options.writeCrop) {
            const dir = `${dataDir}/crops/${task.videoId}`;
            await Deno.mkdir(dir, { recursive: true });
            await Deno.writeFile(
              `${dir}/${task.frameIdx}.ppm`,
              new Uint8Array(8),
            );
          }
          return { text: `P${Math.floor((task.frameIdx ?? 0) / 5)}` };
        case "plate_smooth": {
          const groups = new Map<string, number[]>();
          for (const { task: t, result } of ctx.clipResults("ocr")) {
            const text = String(result.text);
            if (!groups.has(text)) groups.set(text, []);
            groups.get(text)!.push(t.frameIdx ?? 0);
          }
          let trackId = 0;
          return {
            next: [...groups].map(([text, frames]) => ({
              trackId: ++trackId,
              frameIdx: frames[0],
              meta: { text, frames: frames.length },
            })),
          };
        }
        case "summary": {
          const clip = ctx.clip();
          return {
            event: {
              eventKey: `${task.videoId}:${task.trackId}`,
              videoId: task.videoId,
              trackId: task.trackId ?? 0,
              frameIdx: task.frameIdx ?? 0,
              ts: clip?.startTime ?? new Date(0).toISOString(),
              finalPlate: String(task.meta.text),
              plateConfidence: 0.9,
              carBbox: [0, 0, 10, 10],
              plateBbox: [1, 1, 5, 3],
            },
          };
        }
      }
    },
  };
}
