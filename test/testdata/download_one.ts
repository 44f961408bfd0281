/**
 * Runs `downloadVerified(url, target, { sha256, bytes })` from the command
 * line, in its own process so that the proxy variables of its environment
 * apply (Deno's fetch reads them when its client is made).
 *
 * Usage: `download_one.ts URL TARGET SHA256 BYTES`
 */
import { downloadVerified } from "../../src/vision/model_download.ts";

const [url, target, sha256, bytes] = Deno.args;
try {
  await downloadVerified(url, target, {
    sha256,
    bytes: Number(bytes),
    retries: 0,
  });
} catch (error) {
  console.error((error as Error).message);
  Deno.exit(1);
}
