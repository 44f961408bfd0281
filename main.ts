/**
 * Entry point: reads argv and hands it to the CLI; nothing else.
 *
 * @module
 */
import { main } from "./src/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
