import assert from "node:assert/strict";
import { isDiskFull } from "../../src/daemon/engine.ts";

Deno.test("`isDiskFull()` recognises a real ENOSPC from the file system and nothing else", async () => {
  // /dev/full answers every write with ENOSPC, like a full data partition.
  // Deno opens /dev only under --allow-all, so a child process writes there
  // and reports the error it got.
  const script =
    `try { await Deno.writeFile("/dev/full", new Uint8Array(4096)); console.log("null"); }
    catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message, code: e.code })); }`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    env: { NO_COLOR: "1" },
  }).output();
  const shape = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.ok(shape !== null, "writing to /dev/full must fail");
  const enospc = Object.assign(new Error(shape.message), {
    name: shape.name,
    code: shape.code,
  });
  assert.equal(isDiskFull(enospc), true, JSON.stringify(shape));
  let missing: unknown = null;
  try {
    await Deno.readFile("/nonexistent/frame.ppm");
  } catch (err) {
    missing = err;
  }
  assert.equal(isDiskFull(missing), false);
  assert.equal(
    isDiskFull(new Error('Cannot use clip "a.mp4": moov atom not found')),
    false,
  );
  assert.equal(
    isDiskFull(Object.assign(new Error("quota"), { code: "EDQUOT" })),
    true,
  );
});
