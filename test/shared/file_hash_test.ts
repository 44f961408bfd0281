import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File } from "../../src/shared/file_hash.ts";
import { SHARED_MEDIA } from "../support/shared.ts";

/** 2.4 MB, so more than one 1 MiB read. */
const CLIP = `${SHARED_MEDIA}/clips/uk_roundabout_approach.mp4`;

async function sha256sum(path: string): Promise<string> {
  const out = await new Deno.Command("sha256sum", {
    args: ["--", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split(" ")[0];
}

Deno.test("`sha256File()` equals sha256sum on a media file", async () => {
  const expected = await sha256sum(CLIP);
  assert.match(expected, /^[0-9a-f]{64}$/);
  assert.equal(await sha256File(CLIP), expected);
});

Deno.test("`sha256File()` hashes known contents", async () => {
  const dir = await Deno.makeTempDir({ prefix: "file_hash_test_" });
  try {
    const empty = join(dir, "empty");
    await Deno.writeFile(empty, new Uint8Array(0));
    assert.equal(
      await sha256File(empty),
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    const abc = join(dir, "abc");
    await Deno.writeTextFile(abc, "abc");
    // FIPS 180-2 appendix B.1.
    assert.equal(
      await sha256File(abc),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`sha256File()` names the file when a read fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "file_hash_test_" });
  try {
    // Opening a folder works; reading it fails with EISDIR, an error that
    // names no path by itself.
    await assert.rejects(
      () => sha256File(dir),
      (err: Error) => {
        assert.match(err.message, new RegExp(`^Cannot read ${dir}: `));
        assert.equal((err.cause as { code?: string }).code, "EISDIR");
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
