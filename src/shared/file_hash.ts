/**
 * Hashing a file's content, streaming: clip ids, pinned downloads and model
 * checks all use this one.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * Hashes a file with sha256, streaming (a 4 GB clip is fine).
 *
 * @param path The file.
 * @returns The hex digest.
 * @throws {Error} When the file cannot be read, naming it (the OS error is the `cause`).
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  try {
    using file = await Deno.open(path, { read: true });
    const buf = new Uint8Array(1 << 20);
    while (true) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
    }
  } catch (err) {
    // Reads on an open file name no path: say which file (the errno stays
    // on `cause` for callers that tell passing faults apart).
    throw new Error(`Cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return hash.digest("hex");
}
