import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Config,
  ConfigError,
  type ConfigFlags,
  DEFAULTS,
  loadConfig,
  stripJsonComments,
} from "../../src/config/mod.ts";
import { fromFileUrl } from "../support/paths.ts";

const EXAMPLE = fromFileUrl(
  new URL("../../config/dashcam.example.json", import.meta.url),
);

/** The defaults as loadConfig returns them: paths resolved against cwd. */
function resolvedDefaults(): Config {
  return {
    ...structuredClone(DEFAULTS),
    data_dir: join(Deno.cwd(), "data"),
    models_dir: join(Deno.cwd(), "models"),
  } as Config;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "load_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes `text` as a config file and loads it with `flags` and `env`. */
async function loadText(
  text: string,
  flags: ConfigFlags = {},
  env: Record<string, string> = {},
): Promise<Config> {
  let config: Config | undefined;
  await withTempDir(async (dir) => {
    const path = join(dir, "dashcam.json");
    await Deno.writeTextFile(path, text);
    config = (await loadConfig({ config: path, ...flags }, { env })).config;
  });
  return config!;
}

/** Asserts that loading rejects with a one-line ConfigError equal to `message`. */
async function assertConfigError(
  load: () => Promise<unknown>,
  message: string | RegExp,
): Promise<void> {
  await assert.rejects(load, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `ConfigError, got ${err}`);
    assert.equal(err.message.includes("\n"), false, "one line");
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

const FILE = `// A test configuration, JSONC.
{
  "data_dir": "/file/data", // a trailing comment
  /* a block
     comment */
  "models_dir": "/file/models",
  "log_level": "debug",
  "sampling_fps": 2,
  "inference": { "backend": "wasm", "threads": 2, },
  "workers": { "ocr": 3, },
  "pg": { "url": "postgres://file@h/db", "device_id": "van-7", },
}
`;

Deno.test("`loadConfig()` returns the defaults when the default file is missing", async () => {
  await withTempDir(async (dir) => {
    const out = await loadConfig({}, {
      env: {},
      defaultFile: join(dir, "absent.json"),
    });
    assert.deepEqual(out, { config: resolvedDefaults(), file: null });
  });
});

Deno.test("`loadConfig()` reads a JSONC file over the defaults, merging sections", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "dashcam.json");
    await Deno.writeTextFile(path, FILE);
    const { config, file } = await loadConfig({ config: path }, { env: {} });
    assert.equal(file, path);
    const expected = resolvedDefaults();
    expected.data_dir = "/file/data";
    expected.models_dir = "/file/models";
    expected.log_level = "debug";
    expected.sampling_fps = 2;
    expected.inference = { backend: "wasm", threads: 2 };
    expected.workers.ocr = 3; // the other four stay 1
    expected.pg.url = "postgres://file@h/db";
    expected.pg.device_id = "van-7"; // tls, batch_size stay default
    assert.deepEqual(config, expected);
  });
});

Deno.test("`loadConfig()` reads the default file when neither flag nor env names one", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "dashcam.json");
    await Deno.writeTextFile(path, '{ "sampling_fps": 3 }');
    const out = await loadConfig({}, { env: {}, defaultFile: path });
    assert.equal(out.file, path);
    assert.equal(out.config.sampling_fps, 3);
  });
});

Deno.test("`loadConfig()` lets env win over the file", async () => {
  const config = await loadText(FILE, {}, {
    DASHCAM_DATA_DIR: "/env/data",
    DASHCAM_MODELS_DIR: "/env/models",
    DASHCAM_PG_URL: "postgres://env@h/db",
    DASHCAM_LOG_LEVEL: "warn",
  });
  assert.equal(config.data_dir, "/env/data");
  assert.equal(config.models_dir, "/env/models");
  assert.equal(config.pg.url, "postgres://env@h/db");
  assert.equal(config.log_level, "warn");
  assert.equal(config.sampling_fps, 2); // no env var: the file's
  assert.equal(config.inference.backend, "wasm");
  assert.equal(config.pg.device_id, "van-7");
});

Deno.test("`loadConfig()` lets flags win over env and the file", async () => {
  const config = await loadText(FILE, {
    dataDir: "/flag/data",
    modelsDir: "/flag/models",
    pgUrl: "postgres://flag@h/db",
    logLevel: "error",
    fps: "10",
    backend: "native",
  }, {
    DASHCAM_DATA_DIR: "/env/data",
    DASHCAM_MODELS_DIR: "/env/models",
    DASHCAM_PG_URL: "postgres://env@h/db",
    DASHCAM_LOG_LEVEL: "warn",
  });
  assert.equal(config.data_dir, "/flag/data");
  assert.equal(config.models_dir, "/flag/models");
  assert.equal(config.pg.url, "postgres://flag@h/db");
  assert.equal(config.log_level, "error");
  assert.equal(config.sampling_fps, 10);
  assert.equal(config.inference.backend, "native");
  assert.equal(config.inference.threads, 2); // the file's
});

Deno.test("`loadConfig()` reads the file named by DASHCAM_CONFIG, unless --config names another", async () => {
  await withTempDir(async (dir) => {
    const fromEnv = join(dir, "env.json");
    const fromFlag = join(dir, "flag.json");
    await Deno.writeTextFile(fromEnv, '{ "sampling_fps": 4 }');
    await Deno.writeTextFile(fromFlag, '{ "sampling_fps": 6 }');
    const env = { DASHCAM_CONFIG: fromEnv };
    const a = await loadConfig({}, { env, defaultFile: fromFlag });
    assert.equal(a.file, fromEnv);
    assert.equal(a.config.sampling_fps, 4);
    const b = await loadConfig({ config: fromFlag }, { env });
    assert.equal(b.file, fromFlag);
    assert.equal(b.config.sampling_fps, 6);
    // A flag-named file wins even when DASHCAM_CONFIG names a missing one.
    const c = await loadConfig({ config: fromFlag }, {
      env: { DASHCAM_CONFIG: join(dir, "absent.json") },
    });
    assert.equal(c.config.sampling_fps, 6);
  });
});

Deno.test("`loadConfig()` resolves relative paths against the working directory", async () => {
  const config = await loadText(
    '{ "data_dir": "rel/data", "inbox_dirs": ["in", "/abs/in"] }',
  );
  assert.equal(config.data_dir, join(Deno.cwd(), "rel/data"));
  assert.deepEqual(config.inbox_dirs, [join(Deno.cwd(), "in"), "/abs/in"]);
});

Deno.test("`loadConfig()` names an unknown key, top-level or nested", async () => {
  await assertConfigError(
    () => loadText('{ "sampling_fs": 5 }'),
    /^Unknown config key 'sampling_fs': allowed keys are data_dir, models_dir, /,
  );
  await assertConfigError(
    () => loadText('{ "graph": { "lease": 3 } }'),
    /^Unknown config key 'graph\.lease': allowed keys are lease_s, max_attempts, /,
  );
  await assertConfigError(
    () => loadText('{ "workers": { "ocrr": 1 } }'),
    /^Unknown config key 'workers\.ocrr'/,
  );
});

Deno.test("`loadConfig()` rejects bad values with one line naming the key and what is allowed", async () => {
  await assertConfigError(
    () => loadText('{ "workers": { "ocr": 0 } }'),
    "Invalid config 'workers.ocr': expected an integer from 1 to 16, got 0",
  );
  await assertConfigError(
    () => loadText('{ "workers": { "ocr": 1.5 } }'),
    "Invalid config 'workers.ocr': expected an integer from 1 to 16, got 1.5",
  );
  await assertConfigError(
    () => loadText('{ "worker_groups": [["ocr", "summary"], ["summary"]] }'),
    `Invalid config 'worker_groups': expected lists of stages with each stage in one list at most, got [["ocr","summary"],["summary"]]`,
  );
  await assertConfigError(
    () => loadText('{ "worker_groups": [["ocr", "ocrr"]] }'),
    /^Invalid config 'worker_groups': expected one of vehicle_detect, plate_detect, ocr, plate_smooth, summary, got /,
  );
  await assertConfigError(
    () => loadText('{ "decode_threads": -1 }'),
    /^Invalid config 'decode_threads': expected .*, got -1$/,
  );
  await assertConfigError(
    () => loadText('{ "inference": { "backend": "cuda" } }'),
    `Invalid config 'inference.backend': expected one of auto, native, wasm, webgpu, got "cuda"`,
  );
  await assertConfigError(
    () => loadText('{ "sampling_fps": "abc" }'),
    `Invalid config 'sampling_fps': expected a number from 0.1 to 60, got "abc"`,
  );
  await assertConfigError(
    () => loadText('{ "graph": { "keep_finished": "yes" } }'),
    `Invalid config 'graph.keep_finished': expected true or false, got "yes"`,
  );
  await assertConfigError(
    () => loadText('{ "inbox_dirs": "/media/sd" }'),
    `Invalid config 'inbox_dirs': expected a list of folder paths, got "/media/sd"`,
  );
  await assertConfigError(
    () => loadText('{ "pg": 5 }'),
    "Invalid config 'pg': expected an object, got 5",
  );
});

Deno.test("`loadConfig()` rejects bad flag and env values like file values", async () => {
  await assertConfigError(
    () => loadText("{}", { fps: "abc" }),
    `Invalid config 'sampling_fps': expected a number from 0.1 to 60, got "abc"`,
  );
  await assertConfigError(
    () => loadText("{}", { backend: "cuda" }),
    `Invalid config 'inference.backend': expected one of auto, native, wasm, webgpu, got "cuda"`,
  );
  await assertConfigError(
    () => loadText("{}", {}, { DASHCAM_LOG_LEVEL: "verbose" }),
    `Invalid config 'log_level': expected one of error, warn, info, debug, got "verbose"`,
  );
});

Deno.test("`loadConfig()` fails naming the file when a named config file is missing", async () => {
  await withTempDir(async (dir) => {
    const absent = join(dir, "absent.json");
    await assertConfigError(
      () => loadConfig({ config: absent }, { env: {} }),
      new RegExp(`^Cannot read config file ${absent}: `),
    );
    await assertConfigError(
      () => loadConfig({}, { env: { DASHCAM_CONFIG: absent } }),
      new RegExp(`^Cannot read config file ${absent}: `),
    );
  });
});

Deno.test("`loadConfig()` fails naming the file on bad JSON or a non-object", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "bad.json");
    await Deno.writeTextFile(path, '{ "sampling_fps": }');
    await assertConfigError(
      () => loadConfig({ config: path }, { env: {} }),
      new RegExp(`^Cannot parse config file ${path}: `),
    );
    await Deno.writeTextFile(path, "[1, 2]");
    await assertConfigError(
      () => loadConfig({ config: path }, { env: {} }),
      `Cannot parse config file ${path}: not an object`,
    );
  });
});

// --- stripJsonComments ----------------------------------------------------------

Deno.test("`stripJsonComments()` removes comments and trailing commas", () => {
  const text = '{\n  "a": 1, // one\n  /* two */ "b": [1, 2,],\n}';
  assert.equal(stripJsonComments(text), '{\n  "a": 1, \n   "b": [1, 2]\n}');
});

Deno.test("`stripJsonComments()` keeps `//` and `/*` inside strings", () => {
  const text = String.raw`{
    "url": "postgres://u@h:5432/db", // a comment
    "glob": "a/*b*/c",
    "quoted": "say \"//not a comment\" ok"
  }`;
  assert.deepEqual(JSON.parse(stripJsonComments(text)), {
    url: "postgres://u@h:5432/db",
    glob: "a/*b*/c",
    quoted: 'say "//not a comment" ok',
  });
});

// The trailing-comma pass works outside strings only: a value containing
// ",]" or ",}" keeps its comma.
Deno.test("`stripJsonComments()` keeps `,]` and `,}` inside strings", () => {
  const text = '{"a": "x,]", "b": "y, }"}';
  assert.equal(stripJsonComments(text), text);
});

// --- config/dashcam.example.json ------------------------------------------------

Deno.test("`loadConfig()` on config/dashcam.example.json gives the defaults apart from inbox_dirs", async () => {
  const { config, file } = await loadConfig({ config: EXAMPLE }, { env: {} });
  assert.equal(file, EXAMPLE);
  assert.deepEqual(config, {
    ...resolvedDefaults(),
    inbox_dirs: ["/media/sdcard/DCIM"],
  });
});

Deno.test("config/dashcam.example.json lists every setting of DEFAULTS, no more", async () => {
  const raw = JSON.parse(stripJsonComments(await Deno.readTextFile(EXAMPLE)));
  assert.deepEqual(raw, { ...DEFAULTS, inbox_dirs: ["/media/sdcard/DCIM"] });
});

Deno.test("config/dashcam.example.json has a comment line above every setting", async () => {
  const lines = (await Deno.readTextFile(EXAMPLE)).split("\n");
  let settings = 0;
  for (let i = 0; i < lines.length; i++) {
    const key = /^\s*"([a-z_]+)":/.exec(lines[i]);
    if (!key) continue;
    settings++;
    assert.match(
      lines[i - 1] ?? "",
      /^\s*\/\/ \S/,
      `comment above "${key[1]}" (line ${i + 1})`,
    );
  }
  // Every key of the defaults, sections and their fields alike.
  const count = (o: object): number =>
    Object.values(o).reduce(
      (n: number, v) =>
        n + 1 +
        (v && typeof v === "object" && !Array.isArray(v) ? count(v) : 0),
      0,
    );
  assert.equal(settings, count(DEFAULTS));
});
