/**
 * Run by each Deno of the aarch64 check (x86-64 host, aarch64 under qemu):
 * prints one JSON line with the CPU architecture Deno was built for and the
 * still `Deno.args[0]` decoded by sharp alone (no ffmpeg fallback), so the
 * check knows that the aarch64 run read photos with sharp's aarch64 build.
 *
 * It also starts `ffmpeg -version`, as the product does to decode clips: under
 * qemu's user-mode emulator the emulated process starts the host's (x86-64)
 * ffmpeg natively.
 *
 * Output: `{"arch": "aarch64", "sharp": {"width", "height", "sha256"},
 * "ffmpeg": "ffmpeg version 5.1.9-0+deb12u1"}`, with `"sharp": {"error":
 * "…"}` when sharp cannot load or decode and `"ffmpeg": "error: …"` when
 * ffmpeg cannot be started.
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
  /** First line of `ffmpeg -version`, or `error: …`. */
  ffmpeg: string;
}

async function ffmpegVersion(): Promise<string> {
  try {
    const out = await new Deno.Command("ffmpeg", {
      args: ["-version"],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).output();
    const first = (new TextDecoder().decode(out.stdout).split("\n")[0] ?? "")
      .replace(/ Copyright.*$/, "");
    return out.success ? first : `error: exit ${out.code}`;
  } catch (error) {
    return `error: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function probe(still: string): Promise<RuntimeProbe> {
  const ffmpeg = await ffmpegVersion();
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
      ffmpeg,
    };
  } catch (error) {
    return {
      arch: Deno.build.arch,
      sharp: { error: error instanceof Error ? error.message : String(error) },
      ffmpeg,
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
