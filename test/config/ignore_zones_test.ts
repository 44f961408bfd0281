import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../src/config/mod.ts";

async function withConfig(
  body: unknown,
): Promise<Awaited<ReturnType<typeof loadConfig>>> {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/dashcam.json`;
    await Deno.writeTextFile(path, JSON.stringify(body));
    return await loadConfig({ config: path }, { env: {} });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`loadConfig()` takes a camera's ignore_zones as polygons in relative coordinates", async () => {
  const zone = [[0.7, 0.85], [1, 0.85], [1, 1], [0.7, 1]];
  const { config } = await withConfig({
    cameras: { front: { ignore_zones: [zone] }, default: {} },
  });
  assert.deepEqual(config.cameras.front.ignore_zones, [zone]);
  assert.equal(config.cameras.default.ignore_zones, undefined);
});

Deno.test("`loadConfig()` refuses a bad ignore zone in one line naming the key", async () => {
  for (
    const [zones, detail] of [
      [[[[0, 0], [1.5, 0], [0, 1]]], "point 1 of polygon 0 is [1.5,0]"],
      [[[[0, 0], [1, 0]]], "polygon 0 is [[0,0],[1,0]]"],
      ["all", 'got "all"'],
    ] as const
  ) {
    await assert.rejects(
      () => withConfig({ cameras: { front: { ignore_zones: zones } } }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(!err.message.includes("\n"));
        assert.match(
          err.message,
          /^Invalid config 'cameras\.front\.ignore_zones'/,
        );
        assert.ok(err.message.includes(detail), err.message);
        return true;
      },
    );
  }
  await assert.rejects(
    () => withConfig({ cameras: { front: { ignore_zone: [] } } }),
    /Unknown config key 'cameras\.front\.ignore_zone'/,
  );
});
