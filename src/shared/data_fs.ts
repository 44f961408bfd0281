/**
 * Creating paths inside the data dir with private modes. The data dir holds
 * personal data (plates, evidence crops, events), so its folders are 0750
 * and its files 0640 whatever the process umask: every folder or file the
 * daemon creates there goes through this module (SQLite's `-wal`/`-shm`
 * files take the mode of their database, see {@linkcode restrictDataFile}).
 *
 * Source of the rule: issue 9 item 9 ("files readable by everyone").
 *
 * @module
 */
import { dirname } from "node:path";

/** Mode of every folder in the data dir (owner rwx, group r-x, others none). */
export const DATA_DIR_MODE = 0o750;
/** Mode of every file in the data dir (owner rw, group r, others none). */
export const DATA_FILE_MODE = 0o640;

/**
 * Creates a folder and its missing parents, each new one with mode 0750
 * (umask notwithstanding); an existing `path` is tightened to 0750 when this
 * process may change it. Parents that existed are left as they are.
 *
 * @example Create a clip's frame folder
 * ```ts ignore
 * await makeDataDir(`${dataDir}/frames/${videoId}`);
 * ```
 * @param path The folder.
 * @throws {Error} When a folder cannot be created (the error names it).
 */
export async function makeDataDir(path: string): Promise<void> {
  const missing: string[] = [];
  let p = path;
  while (true) {
    try {
      await Deno.stat(p);
      break;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      missing.push(p);
      const parent = dirname(p);
      if (parent === p) break;
      p = parent;
    }
  }
  if (missing.length > 0) {
    await Deno.mkdir(path, { recursive: true, mode: DATA_DIR_MODE });
    // mkdir's mode is filtered by the umask: set it exactly.
    for (const dir of missing) await Deno.chmod(dir, DATA_DIR_MODE);
  } else {
    await Deno.chmod(path, DATA_DIR_MODE).catch(() => {
      // Not ours (an admin-made folder): leave its mode alone.
    });
  }
}

/**
 * Writes a whole file with mode 0640 (umask notwithstanding), straight from
 * `data`: `Deno.writeFile` first copies the bytes into a fresh native
 * buffer, a page fault per 4 KiB of every frame the decoder writes (a
 * 2.7 MB copy per 720p frame on the main thread). `data` must not change
 * until the returned promise settles.
 *
 * @param path The file (its folder must exist); an existing one is replaced.
 * @param data The bytes.
 * @throws {Deno.errors.WriteZero} When the file system takes no more bytes.
 */
export async function writeDataFile(
  path: string,
  data: Uint8Array,
): Promise<void> {
  using file = await openDataFile(path, { truncate: true });
  await writeAll(file, data);
}

/**
 * Writes every byte of `data` to an open file, however few bytes each
 * `write` takes.
 *
 * @param file The file, open for writing.
 * @param data The bytes; they must not change until the promise settles.
 * @throws {Deno.errors.WriteZero} When a write takes no byte.
 */
export async function writeAll(
  file: Deno.FsFile,
  data: Uint8Array,
): Promise<void> {
  let n = 0;
  while (n < data.length) {
    const wrote = await file.write(data.subarray(n));
    if (wrote === 0) throw new Deno.errors.WriteZero("write took 0 bytes");
    n += wrote;
  }
}

/**
 * Opens a file for writing in the data dir, creating it with mode 0640
 * (umask notwithstanding).
 *
 * @param path The file.
 * @param options `createNew`: fail when the file exists (default: create or
 * open); `truncate`: empty a file that exists.
 * @returns The open file (write access).
 */
export async function openDataFile(
  path: string,
  options: { createNew?: boolean; truncate?: boolean } = {},
): Promise<Deno.FsFile> {
  const { createNew = false, truncate = false } = options;
  const file = await Deno.open(path, {
    write: true,
    read: true,
    ...(createNew ? { createNew: true } : { create: true }),
    truncate,
    mode: DATA_FILE_MODE,
  });
  try {
    await Deno.chmod(path, DATA_FILE_MODE);
  } catch (err) {
    file.close();
    throw err;
  }
  return file;
}

/**
 * Creates an empty file with mode 0640 (umask notwithstanding); fails when
 * it exists.
 *
 * @param path The file.
 */
export function createDataFileSync(path: string): void {
  Deno.openSync(path, { createNew: true, write: true, mode: DATA_FILE_MODE })
    .close();
  Deno.chmodSync(path, DATA_FILE_MODE);
}

/**
 * Sets a data-dir file to mode 0640, e.g. a database SQLite just created
 * (call it before the first write: SQLite creates the `-wal` and `-shm`
 * files with the database's mode). A file this process may not change is
 * left as it is.
 *
 * @param path The file.
 */
export function restrictDataFile(path: string): void {
  try {
    Deno.chmodSync(path, DATA_FILE_MODE);
  } catch { /* not ours: leave it */ }
}
