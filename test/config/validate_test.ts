import assert from "node:assert/strict";
import { checkConfig } from "../../src/config/validate.ts";
import { DEFAULTS } from "../../src/config/schema.ts";

function withOverride(over: Record<string, unknown>): unknown {
  return { ...structuredClone(DEFAULTS), ...over };
}

Deno.test("checkConfig accepts the defaults and the string forms env vars and flags give", () => {
  const out = checkConfig(withOverride({
    sampling_fps: " 2.5 ",
    graph: { ...DEFAULTS.graph, keep_finished: "true", max_attempts: "4" },
    pg: { ...DEFAULTS.pg, url: "" },
  }));
  assert.ok(out.ok);
  assert.equal(out.config.sampling_fps, 2.5);
  assert.equal(out.config.graph.keep_finished, true);
  assert.equal(out.config.graph.max_attempts, 4);
  assert.equal(out.config.pg.url, null); // empty counts as unset
});

Deno.test("checkConfig names the list, not the element, and quotes the value given", () => {
  assert.deepEqual(checkConfig(withOverride({ inbox_dirs: ["/a", 5] })), {
    ok: false,
    error:
      `Invalid config 'inbox_dirs': expected a list of folder paths, got ["/a",5]`,
  });
  assert.deepEqual(
    checkConfig(withOverride({ sampling_fps: "" })),
    {
      ok: false,
      error:
        `Invalid config 'sampling_fps': expected a number from 0.1 to 60, got ""`,
    },
  );
});

Deno.test("checkConfig names an unknown key at the top and in a section with the allowed keys", () => {
  const top = checkConfig(withOverride({ sampling_fsp: 5 }));
  assert.ok(!top.ok);
  assert.match(
    top.error,
    /^Unknown config key 'sampling_fsp': allowed keys are data_dir, models_dir, /,
  );
  const inner = checkConfig(
    withOverride({ pg: { ...DEFAULTS.pg, passwd: "x" } }),
  );
  assert.deepEqual(inner, {
    ok: false,
    error:
      "Unknown config key 'pg.passwd': allowed keys are url, password_file, tls, device_id, batch_size",
  });
});
