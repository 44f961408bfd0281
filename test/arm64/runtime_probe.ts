/**
 * Run by each Deno of the aarch64 check (x86-64 host, aarch64 under qemu):
 * prints one JSON line with the CPU architecture Deno was built for and the
 * still `Deno.args[0]` decoded by sharp alone (no ffmpeg fallback), so the
 * check knows that the aarch64 run read photos with sharp's aarch64 build.
 *
 * Output: `{"arch": "aarch64", "sharp": {"width", "height", "sha256"}}`, or
 * `"sharp": {"error": "…"}` when sharp cannot load or decode.
 *
 * @module
 */
import { decodeImageFile } from "../../src/ingest/image_decode.ts";

/** What the probe prints. */
export interface RuntimeProbe {
  /** `Deno.build.arch`: `x86_64` or `aarch64`. */
  arch: string;
  /** The still as decoded by sharp, or why it could not be. */
  sharp: { width: number; height: number; sha256: string } | {
    error: string;
  };
}

async function probe(still: string): Promise<RuntimeProbe> {
  try {
    const image = await decodeImageFile(still, { decoder: "sharp" });
    const hash = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new Uint8Array(image.data)),
    );
    return {
      arch: Deno.build.arch,
      sharp: {
        width: image.width,
        height: image.height,
        sha256: Array.from(hash, (b) => b.toString(16).padStart(2, "0"))
          .join(""),
      },
    };
  } catch (error) {
    return {
      arch: Deno.build.arch,
      sharp: { error: error instanceof Error ? error.message : String(error) },
    };
  }
}

if (import.meta.main) {
  const still = Deno.args[0];
  if (still === undefined) {
    console.error("usage: runtime_probe.ts STILL");
    Deno.exit(2);
  }
  console.log(JSON.stringify(await probe(still)));
}
