import assert from "node:assert/strict";
import { join } from "node:path";
import {
  notify,
  notifySocketAddress,
  systemdNotifyArgs,
  watchdogIntervalMs,
} from "../../src/daemon/sd_notify.ts";

const SD_NOTIFY_URL = new URL("../../src/daemon/sd_notify.ts", import.meta.url)
  .href;

/** Binds a unix datagram socket (a path, or `@name`) and prints each datagram. */
const RECEIVER = `
const [where, count] = Deno.args;
const path = where.startsWith("@") ? "\\0" + where.slice(1) : where;
const socket = Deno.listenDatagram({ transport: "unixpacket", path });
console.log(JSON.stringify({ bound: true }));
for (let i = 0; i < Number(count); i++) {
  const [data] = await socket.receive();
  console.log(JSON.stringify({ data: new TextDecoder().decode(data) }));
}
socket.close();
`;

/** Sends through the datagram transport; needs --unstable-net. */
const SENDER = `
import { notify } from ${JSON.stringify(SD_NOTIFY_URL)};
const [socket, state, bindPath] = Deno.args;
const result = await notify(state, {
  transport: "datagram",
  env: (name) => (name === "NOTIFY_SOCKET" ? socket : undefined),
  bindPath: bindPath === "" ? undefined : bindPath,
});
console.log(JSON.stringify(result));
`;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sd_notify_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Reads a child's stdout line by line. */
class Lines {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }
  async next(): Promise<string | null> {
    while (!this.#buffer.includes("\n")) {
      const { value, done } = await this.#reader.read();
      if (done) return null;
      this.#buffer += value;
    }
    const at = this.#buffer.indexOf("\n");
    const line = this.#buffer.slice(0, at);
    this.#buffer = this.#buffer.slice(at + 1);
    return line;
  }
  async rest(): Promise<string[]> {
    const lines: string[] = [];
    for (
      let line = await this.next();
      line !== null;
      line = await this.next()
    ) {
      lines.push(line);
    }
    return lines;
  }
}

interface Receiver {
  /** Resolves with the datagrams, once `count` have arrived. */
  messages: Promise<string[]>;
}

/** Starts a receiver subprocess (it needs --unstable-net) and waits until bound. */
async function startReceiver(
  dir: string,
  where: string,
  count: number,
): Promise<Receiver> {
  const script = join(dir, "receiver.ts");
  await Deno.writeTextFile(script, RECEIVER);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "--allow-all",
      script,
      where,
      String(count),
    ],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  const lines = new Lines(child.stdout);
  assert.equal(await lines.next(), JSON.stringify({ bound: true }));
  const messages = (async () => {
    const rest = await lines.rest();
    const status = await child.status;
    assert.equal(status.success, true, "receiver ended early");
    return rest.map((l) => (JSON.parse(l) as { data: string }).data);
  })();
  return { messages };
}

function envOf(
  vars: Record<string, string>,
): (name: string) => string | undefined {
  return (name) => vars[name];
}

Deno.test("`notifySocketAddress()` maps @ to the abstract namespace and rejects relative paths", () => {
  assert.equal(
    notifySocketAddress("/run/systemd/notify"),
    "/run/systemd/notify",
  );
  assert.equal(
    notifySocketAddress("@/org/freedesktop/x"),
    "\0/org/freedesktop/x",
  );
  assert.equal(notifySocketAddress("notify.sock"), null);
  assert.equal(notifySocketAddress("@"), null);
  assert.equal(notifySocketAddress(""), null);
  assert.equal(notifySocketAddress(undefined), null);
});

Deno.test("`systemdNotifyArgs()` gives one argument per assignment and rejects others", () => {
  assert.deepEqual(systemdNotifyArgs("WATCHDOG=1"), ["WATCHDOG=1"]);
  assert.deepEqual(
    systemdNotifyArgs("READY=1\nSTATUS=Loading models: 2/3\n"),
    ["READY=1", "STATUS=Loading models: 2/3"],
  );
  assert.throws(() => systemdNotifyArgs("--ready"), SyntaxError);
  assert.throws(
    () => systemdNotifyArgs("READY=1\nnot an assignment"),
    SyntaxError,
  );
});

Deno.test("`watchdogIntervalMs()` is half of WATCHDOG_USEC, for this PID only", () => {
  assert.equal(
    watchdogIntervalMs({ env: envOf({ WATCHDOG_USEC: "30000000" }) }),
    15_000,
  );
  assert.equal(
    watchdogIntervalMs({
      env: envOf({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "4242" }),
      pid: 4242,
    }),
    15_000,
  );
  assert.equal(
    watchdogIntervalMs({
      env: envOf({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "4242" }),
      pid: 4243,
    }),
    null,
  );
  assert.equal(watchdogIntervalMs({ env: envOf({}) }), null);
  assert.equal(
    watchdogIntervalMs({ env: envOf({ WATCHDOG_USEC: "abc" }) }),
    null,
  );
  assert.equal(
    watchdogIntervalMs({ env: envOf({ WATCHDOG_USEC: "1999" }) }),
    null,
  );
  assert.equal(
    watchdogIntervalMs({ env: envOf({ WATCHDOG_USEC: "2000" }) }),
    1,
  );
});

Deno.test("`notify()` does nothing when NOTIFY_SOCKET is unset", async () => {
  const result = await notify("READY=1", {
    env: envOf({}),
    command: "/nonexistent/systemd-notify",
  });
  assert.deepEqual(result, { sent: false, via: "none" });
});

Deno.test("`notify()` refuses a relative NOTIFY_SOCKET with a clear reason", async () => {
  const result = await notify("READY=1", {
    env: envOf({ NOTIFY_SOCKET: "notify.sock" }),
  });
  assert.deepEqual(result, {
    sent: false,
    via: "none",
    error: 'NOTIFY_SOCKET is not an absolute path or @name: "notify.sock"',
  });
});

Deno.test("`notify()` through systemd-notify reaches a unix datagram socket", async () => {
  await withTempDir(async (dir) => {
    const socket = join(dir, "notify.sock");
    // systemd-notify sends the state, then BARRIER=1 and waits for it to be read.
    const receiver = await startReceiver(dir, socket, 2);
    const result = await notify("READY=1\nSTATUS=Loading models", {
      env: envOf({ NOTIFY_SOCKET: socket }),
      transport: "systemd-notify",
    });
    assert.deepEqual(result, { sent: true, via: "systemd-notify" });
    assert.deepEqual(await receiver.messages, [
      "READY=1\nSTATUS=Loading models",
      "BARRIER=1",
    ]);
  });
});

Deno.test("`notify()` through systemd-notify reaches an abstract socket named with @", async () => {
  await withTempDir(async (dir) => {
    const name = `@dashcam-test-${crypto.randomUUID()}`;
    const receiver = await startReceiver(dir, name, 2);
    const result = await notify("WATCHDOG=1", {
      env: envOf({ NOTIFY_SOCKET: name }),
      transport: "systemd-notify",
    });
    assert.deepEqual(result, { sent: true, via: "systemd-notify" });
    assert.deepEqual(await receiver.messages, ["WATCHDOG=1", "BARRIER=1"]);
  });
});

Deno.test("`notify()` with `auto` delivers in a process without --unstable-net", async () => {
  await withTempDir(async (dir) => {
    const socket = join(dir, "notify.sock");
    const hasDatagram = "listenDatagram" in Deno;
    const receiver = await startReceiver(dir, socket, hasDatagram ? 1 : 2);
    const result = await notify("STOPPING=1", {
      env: envOf({ NOTIFY_SOCKET: socket }),
      bindPath: join(dir, "self.sock"),
    });
    assert.deepEqual(result, {
      sent: true,
      via: hasDatagram ? "datagram" : "systemd-notify",
    });
    assert.equal((await receiver.messages)[0], "STOPPING=1");
  });
});

Deno.test("`notify()` reports systemd-notify's failure when nobody listens", async () => {
  await withTempDir(async (dir) => {
    const result = await notify("WATCHDOG=1", {
      env: envOf({ NOTIFY_SOCKET: join(dir, "nobody.sock") }),
      transport: "systemd-notify",
    });
    assert.equal(result.sent, false);
    assert.equal(result.via, "systemd-notify");
    assert.match(result.error ?? "", /^systemd-notify exited with 1: /);
  });
});

/** Runs SENDER under --unstable-net with the given permission flags. */
async function sendInSubprocess(
  dir: string,
  flags: string[],
  args: [socket: string, state: string, bindPath: string],
): Promise<unknown> {
  const script = join(dir, "sender.ts");
  await Deno.writeTextFile(script, SENDER);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--unstable-net", ...flags, script, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.success, true, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("`notify()` through the datagram transport sends from the daemon's own socket", async () => {
  await withTempDir(async (dir) => {
    const socket = join(dir, "notify.sock");
    const bind = join(dir, "self.sock");
    const receiver = await startReceiver(dir, socket, 1);
    // The narrowest flags that work (documented in sd_notify.ts).
    const result = await sendInSubprocess(dir, [
      `--allow-net=unix:${socket},unix:${bind}`,
      `--allow-read=${bind}`,
      `--allow-write=${bind},${socket}`,
    ], [socket, "READY=1", bind]);
    assert.deepEqual(result, { sent: true, via: "datagram" });
    assert.deepEqual(await receiver.messages, ["READY=1"]);
    await assert.rejects(Deno.lstat(bind), Deno.errors.NotFound);
  });
});

Deno.test("`notify()` through the datagram transport reaches an abstract socket", async () => {
  await withTempDir(async (dir) => {
    const name = `@dashcam-test-${crypto.randomUUID()}`;
    const receiver = await startReceiver(dir, name, 1);
    const result = await sendInSubprocess(dir, ["--allow-all"], [
      name,
      "WATCHDOG=1",
      "",
    ]);
    assert.deepEqual(result, { sent: true, via: "datagram" });
    assert.deepEqual(await receiver.messages, ["WATCHDOG=1"]);
  });
});
