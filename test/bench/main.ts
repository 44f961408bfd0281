/**
 * `deno task bench [section…]`: prints figures and ratios. Sections:
 * engine, frames, vision (default: all). Not part of the tests: timings on
 * a shared 2-core machine are noisy.
 *
 * @module
 */
import { engineBench } from "./engine_bench.ts";
import { frameFormatBench } from "./frame_format_bench.ts";
import { visionBench } from "./vision_bench.ts";

const sections: Record<string, () => Promise<void>> = {
  engine: engineBench,
  frames: frameFormatBench,
  vision: () =>
    visionBench({
      backend: (Deno.env.get("BENCH_BACKEND") as "native") ?? "native",
    }),
};

const wanted = Deno.args.length ? Deno.args : Object.keys(sections);
console.log(
  `# dashcam bench (${
    new Date().toISOString()
  }, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno})`,
);
for (const name of wanted) {
  const run = sections[name];
  if (!run) {
    console.error(
      `unknown section '${name}': ${Object.keys(sections).join(", ")}`,
    );
    Deno.exit(2);
  }
  await run();
}
