/**
 * `deno task bench [section…]`: prints figures and ratios. Sections:
 * engine, frames, sync, backends, power-cuts, vision, vehicle-output (the
 * default vehicle detector beside the one with all 80 classes), `read` and `process`
 * (the product's own commands as a user starts them, beside bare inference
 * of the same frames: see `product_bench.ts`) (default: all of these),
 * `fleet` (200 devices syncing at once, then searches on a
 * 10-million-row `vehicles`: about 15 minutes and 6 GB of disk, so only
 * when named) and `soak [--minutes N] [--sample-s S] [--clip-every-s C] [--keep]`
 * (an hour by default, so only when named; its flags follow it). Not part
 * of the tests: timings on a shared 2-core machine are noisy.
 *
 * @module
 */
import { engineBench } from "./engine_bench.ts";
import { powerCutBench } from "./power_cut_bench.ts";
import { fmt, table } from "./_util.ts";
import { frameFormatBench } from "./frame_format_bench.ts";
import { visionBench } from "./vision_bench.ts";
import { smallPlateBench } from "./small_plate_bench.ts";
import { parseSoakArgs, soakBench } from "./soak_bench.ts";
import { productBench } from "./product_bench.ts";

/** The sync bench runs as its own process (it starts a throwaway Postgres). */
async function syncBench(): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("./sync_bench.ts", import.meta.url).pathname,
      "100000",
      "500",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  const r = JSON.parse(text.slice(text.lastIndexOf("\n{") + 1));
  table(
    "Sync of a 100,000-row outbox backlog to PostgreSQL 15 (batches of 500)",
    [
      Object.keys(r),
      Object.values(r).map((v) =>
        typeof v === "number" ? fmt(v, 1) : String(v)
      ),
    ],
  );
}

/** The backend comparison runs as its own process (wasm threads, worker). */
async function backendsBench(): Promise<void> {
  console.log(
    "\n## Inference backends side by side (native, wasm, webgpu where an adapter exists)\n",
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("./inference_backends.ts", import.meta.url).pathname,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) console.log(`(backend comparison exited with ${out.code})`);
}

/** The vehicle detector's output comparison runs as its own process (malloc settings). */
async function vehicleOutputBench(): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("./vehicle_output_bench.ts", import.meta.url).pathname,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) {
    console.log(`(vehicle output bench exited with ${out.code})`);
  }
}

/**
 * The fleet bench runs as its own process (a throwaway Postgres, device
 * processes); its tables go to stdout, progress to stderr.
 */
async function fleetBench(): Promise<void> {
  console.log(
    "\n## Fleet: many devices syncing at once; searches on 10 million rows\n",
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("./fleet_bench.ts", import.meta.url).pathname,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) console.log(`(fleet bench exited with ${out.code})`);
}

const sections: Record<string, () => Promise<void>> = {
  engine: engineBench,
  frames: frameFormatBench,
  sync: syncBench,
  backends: backendsBench,
  "power-cuts": () => powerCutBench(100),
  "small-plates": smallPlateBench,
  vision: () =>
    visionBench({
      backend: (Deno.env.get("BENCH_BACKEND") as "native") ?? "native",
    }),
  "vehicle-output": vehicleOutputBench,
  read: () => productBench("read"),
  process: () => productBench("process"),
};

// `soak` takes an hour, so it runs only when named; the flags after it
// are its own. `fleet` too runs only when named.
const soakAt = Deno.args.indexOf("soak");
const named = soakAt >= 0 ? Deno.args.slice(0, soakAt + 1) : Deno.args;
const wanted = named.length ? named : Object.keys(sections);
sections.fleet = fleetBench;
sections.soak = () => soakBench(parseSoakArgs(Deno.args.slice(soakAt + 1)));
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
