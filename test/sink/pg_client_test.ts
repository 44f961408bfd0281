import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import {
  closePg,
  connectPg,
  describePgError,
  pgBackoff,
  redactUrl,
  resolvePgPassword,
} from "../../src/sink/pg_client.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

function captureLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return {
    log: new Logger({ level: "debug", sink: (l) => lines.push(l) }),
    lines,
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Runs `SELECT 1` and returns the described error (or throws if it worked). */
async function failingQuery(
  url: string,
  log: Logger,
): Promise<{ line: string; err: Error }> {
  const sql = connectPg({ url, log, connectTimeoutS: 5 });
  try {
    await sql`SELECT 1`;
  } catch (err) {
    const line = describePgError(err, { setting: "pg.url", url });
    log.error(line);
    return { line, err: err as Error };
  } finally {
    await closePg(sql, 2000);
  }
  throw new Error("Expected the query to fail");
}

function withEnv(
  vars: Record<string, string | undefined>,
  fn: () => Promise<void>,
): Promise<void> {
  const saved = Object.fromEntries(
    Object.keys(vars).map((k) => [k, Deno.env.get(k)]),
  );
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  };
  set(vars);
  return fn().finally(() => set(saved));
}

Deno.test("pg_client against a real server", async (t) => {
  await using cluster = await startPgCluster();
  const where = `127.0.0.1:${cluster.port}`;

  await t.step("`connectPg()` logs in with the URL's password", async () => {
    const sql = connectPg({ url: cluster.url });
    const [row] = await sql<{ user: string }[]>`SELECT current_user AS user`;
    assert.equal(row?.user, cluster.user);
    assert.equal(await closePg(sql, 2000), true);
  });

  await t.step(
    "a wrong password gives one line naming pg.url and host:port, no secret",
    async () => {
      const { log, lines } = captureLogger();
      const wrong = "wrong-Secret-4242";
      const url = cluster.urlFor("postgres", { password: wrong });
      const { line, err } = await failingQuery(url, log);
      assert.equal(
        line,
        `Cannot log in to Postgres at ${where} (pg.url): wrong password ` +
          `(password authentication failed for user "${cluster.user}"), ` +
          "check the password in the URL, pg.password_file or PGPASSWORD",
      );
      const everything = [...lines, line, err.message, String(err.stack)]
        .join("\n");
      assert.equal(everything.includes(wrong), false);
      assert.equal(everything.includes(cluster.password), false);
      assert.equal(lines.length, 1);
    },
  );

  await t.step(
    "a server that is down gives one line with host:port",
    async () => {
      const { log, lines } = captureLogger();
      const port = freePort();
      const url =
        `postgres://u:${cluster.password}@127.0.0.1:${port}/dashcam_final`;
      const { line, err } = await failingQuery(url, log);
      assert.equal(
        line,
        `Cannot reach Postgres at 127.0.0.1:${port} (pg.url): connection ` +
          "refused, is the server running and listening there?",
      );
      const everything = [...lines, err.message].join("\n");
      assert.equal(everything.includes(cluster.password), false);
    },
  );

  await t.step("a missing database gives one line naming it", async () => {
    const { log, lines } = captureLogger();
    const url = cluster.urlFor("no_such_db");
    const { line } = await failingQuery(url, log);
    assert.equal(
      line,
      `Cannot open the database at ${where} (pg.url): database ` +
        '"no_such_db" does not exist, run `migrate` to create it',
    );
    assert.equal(lines.join("\n").includes(cluster.password), false);
  });

  await t.step(
    "`passwordFile` supplies the password when the URL has none",
    async () => {
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeTextFile(`${dir}/pw`, cluster.password + "\n");
        const url = cluster.urlFor("postgres", { password: null });
        const sql = connectPg({ url, passwordFile: `${dir}/pw` });
        const [row] = await sql<{ one: number }[]>`SELECT 1 AS one`;
        assert.equal(row?.one, 1);
        await closePg(sql, 2000);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );

  await t.step(
    "the systemd credential supplies the password when set",
    async () => {
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeTextFile(`${dir}/pg-password`, cluster.password);
        await withEnv(
          { CREDENTIALS_DIRECTORY: dir, PGPASSWORD: undefined },
          async () => {
            const url = cluster.urlFor("postgres", { password: null });
            assert.equal(resolvePgPassword(url).source, "credential");
            const sql = connectPg({ url });
            const [row] = await sql<{ one: number }[]>`SELECT 1 AS one`;
            assert.equal(row?.one, 1);
            await closePg(sql, 2000);
          },
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );

  await t.step(
    "PGPASSWORD supplies the password as the last resort",
    async () => {
      await withEnv(
        { CREDENTIALS_DIRECTORY: undefined, PGPASSWORD: cluster.password },
        async () => {
          const url = cluster.urlFor("postgres", { password: null });
          assert.equal(resolvePgPassword(url).source, "PGPASSWORD");
          const sql = connectPg({ url });
          const [row] = await sql<{ one: number }[]>`SELECT 1 AS one`;
          assert.equal(row?.one, 1);
          await closePg(sql, 2000);
        },
      );
    },
  );

  await t.step(
    "a query resumes after a server restart on the same client",
    async () => {
      const sql = connectPg({ url: cluster.url });
      await sql`SELECT 1`;
      await cluster.stop("immediate");
      const { line } = await sql`SELECT 1`.then(
        () => ({ line: "worked" }),
        (err) => ({ line: describePgError(err, { url: cluster.url }) }),
      );
      assert.match(line, new RegExp(`Postgres at ${where} \\(pg\\.url\\)`));
      assert.equal(line.includes(cluster.password), false);
      await cluster.start();
      let ok = false;
      for (let attempt = 0; attempt < 5 && !ok; attempt++) {
        ok = await sql`SELECT 1`.then(() => true, () => false);
      }
      assert.equal(ok, true);
      assert.equal(await closePg(sql, 2000), true);
    },
  );
});

Deno.test("`connectPg()` names pg.password_file when the file is missing", () => {
  assert.throws(
    () =>
      connectPg({
        url: "postgres://u@127.0.0.1:5432/db",
        passwordFile: "/nonexistent/pw",
      }),
    {
      message:
        "Cannot read the Postgres password file /nonexistent/pw (pg.password_file): no such file",
    },
  );
});

Deno.test("`connectPg()` rejects a URL that is not postgres://", () => {
  assert.throws(
    () => connectPg({ url: "mysql://u:hunter2@h/db" }),
    (err: Error) =>
      err instanceof TypeError &&
      err.message ===
        'Cannot connect to Postgres as pg.url must start with postgres://: current value is "mysql://u:***@h/db"',
  );
});

Deno.test("`redactUrl()` hides passwords in userinfo and query", () => {
  assert.equal(
    redactUrl("postgres://dash:p%40ss@db.example:5432/dashcam_final"),
    "postgres://dash:***@db.example:5432/dashcam_final",
  );
  assert.equal(
    redactUrl("postgresql://dash@db/x?sslmode=require&password=abc"),
    "postgresql://dash@db/x?sslmode=require&password=***",
  );
  assert.equal(redactUrl("postgres://db/x"), "postgres://db/x");
});

Deno.test("`describePgError()` words timeouts, DNS and startup and scrubs echoes", () => {
  const url = "postgres://dash:Tr0ub4dor@fleet.example:6432/dashcam_final";
  const timeout = Object.assign(
    new Error("write CONNECT_TIMEOUT fleet.example:6432"),
    { code: "CONNECT_TIMEOUT", address: "fleet.example", port: 6432 },
  );
  assert.equal(
    describePgError(timeout, { url }),
    "Cannot reach Postgres at fleet.example:6432 (pg.url): connection timed out, check the network and firewall",
  );
  const dns = Object.assign(new Error("getaddrinfo ENOTFOUND fleet.example"), {
    code: "ENOTFOUND",
  });
  assert.equal(
    describePgError(dns, { url, setting: "pg.admin_url" }),
    "Cannot reach Postgres at fleet.example:6432 (pg.admin_url): host name not found (DNS), check the host in the URL",
  );
  const starting = Object.assign(
    new Error("the database system is starting up"),
    { name: "PostgresError", code: "57P03" },
  );
  assert.equal(
    describePgError(starting, { url }),
    "Cannot use Postgres at fleet.example:6432 (pg.url): the server is starting up or shutting down, will retry",
  );
  // A driver that echoes the URL or the password: both are scrubbed, also
  // from the error object itself.
  const echo = new Error(`bad thing with ${url} and Tr0ub4dor\nsecond line`);
  const line = describePgError(echo, { url });
  assert.equal(
    line,
    "Postgres error at fleet.example:6432 (pg.url): bad thing with postgres://dash:***@fleet.example:6432/dashcam_final and ***",
  );
  assert.equal(echo.message.includes("Tr0ub4dor"), false);
  // Without a URL: postgres.js's own address fields (arrays once the socket is gone).
  const closed = Object.assign(new Error("write CONNECTION_CLOSED"), {
    code: "CONNECTION_CLOSED",
    address: ["10.1.2.3"],
    port: [5433],
  });
  assert.equal(
    describePgError(closed),
    "Lost the connection to Postgres at 10.1.2.3:5433 (pg.url): CONNECTION_CLOSED, will retry",
  );
  const extra = describePgError(new Error("token XYZSECRET"), {
    secrets: ["XYZSECRET"],
  });
  assert.equal(extra, "Postgres error at (unknown host) (pg.url): token ***");
});

Deno.test("`pgBackoff()` retries fast: 0.1, 0.2, 0.4, then 0.5 s", () => {
  assert.deepEqual([1, 2, 3, 4, 10].map(pgBackoff), [0.1, 0.2, 0.4, 0.5, 0.5]);
});
