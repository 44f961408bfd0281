import assert from "node:assert/strict";
import { Socket } from "node:net";
import { Logger } from "../../src/log/mod.ts";
import {
  closePg,
  connectPg,
  guardSocketErrors,
} from "../../src/sink/pg_client.ts";

function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("`guardSocketErrors()` hands an ECONNREFUSED nobody listens to to `onLate`", async () => {
  const socket = new Socket();
  const late: unknown[] = [];
  guardSocketErrors(socket, (err) => late.push(err));
  const closed = Promise.withResolvers<void>();
  socket.once("close", () => closed.resolve());
  // As postgres.js leaves a socket it has dropped: no error listener at all.
  socket.removeAllListeners("error");
  socket.connect(deadPort(), "127.0.0.1");
  await closed.promise; // without the guard the process dies before this
  assert.equal(late.length, 1);
  assert.equal((late[0] as { code?: string }).code, "ECONNREFUSED");
});

Deno.test("`guardSocketErrors()` leaves errors with a listener alone", async () => {
  const socket = new Socket();
  const late: unknown[] = [];
  const heard: unknown[] = [];
  guardSocketErrors(socket, (err) => late.push(err));
  socket.on("error", (err) => heard.push(err));
  const closed = Promise.withResolvers<void>();
  socket.once("close", () => closed.resolve());
  socket.connect(deadPort(), "127.0.0.1");
  await closed.promise;
  assert.equal(late.length, 0);
  assert.equal(heard.length, 1);
});

Deno.test("`connectPg()` still names host:port in a refused connection through its own sockets", async () => {
  const port = deadPort();
  const sql = connectPg({
    url: `postgres://u:pw@127.0.0.1:${port}/db`,
    log: new Logger({ sink: () => {} }),
  });
  try {
    await assert.rejects(sql`SELECT 1`, (err: Error & { code?: string }) => {
      assert.equal(err.code, "ECONNREFUSED");
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      return true;
    });
  } finally {
    await closePg(sql, 2000);
  }
});
