/**
 * The malloc arena cap is set through glibc's mallopt, and a
 * MALLOC_ARENA_MAX the user set wins.
 */
import assert from "node:assert/strict";
import { capMallocArenas } from "../../src/shared/mod.ts";

Deno.test("capMallocArenas sets glibc's arena cap on Linux, and leaves a user's MALLOC_ARENA_MAX alone", () => {
  const before = Deno.env.get("MALLOC_ARENA_MAX");
  try {
    Deno.env.delete("MALLOC_ARENA_MAX");
    assert.equal(capMallocArenas(2), Deno.build.os === "linux");
    Deno.env.set("MALLOC_ARENA_MAX", "4");
    assert.equal(capMallocArenas(2), false);
  } finally {
    if (before === undefined) Deno.env.delete("MALLOC_ARENA_MAX");
    else Deno.env.set("MALLOC_ARENA_MAX", before);
  }
});
