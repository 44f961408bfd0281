import assert from "node:assert/strict";
import { videoIdFromHash } from "../../src/ingest/video_id.ts";

Deno.test("`videoIdFromHash()` keeps the first 16 hex digits", () => {
  assert.equal(
    videoIdFromHash(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    ),
    "ba7816bf8f01cfea",
  );
});
