/**
 * Path helpers for tests.
 *
 * @module
 */

/**
 * A file URL's path, keeping a trailing slash.
 *
 * @param url The URL.
 * @returns The path.
 */
export function fromFileUrl(url: URL): string {
  return decodeURIComponent(url.pathname);
}
