/**
 * Hides credentials in any text shown to a person: the password of every
 * `user:password@host` (whatever comes before it: a well-formed URL, a
 * typo'd scheme like `postgres//` or `postgress:`, or no scheme at all) and
 * every `password=...` parameter. Applied to every log line and every
 * configuration error, so a secret given in the wrong shape is still hidden.
 *
 * @module
 */

/**
 * A blank-free run of text up to its LAST `@` (URL parsers split at the last
 * `@` too, and an unencoded password may hold `@`, `:`, `/` or `=`).
 */
const BEFORE_AT = /([^\s"'`<>()[\]{}]*)@/g;

/** What may precede the user name: `key=` and a scheme, typo'd or not. */
const PREFIX = /^(?:[\w.-]+=)?(?:[A-Za-z][\w+.-]*:?\/+)?/;

function redactUserinfo(_match: string, before: string): string {
  const prefix = PREFIX.exec(before)?.[0] ?? "";
  const userinfo = before.slice(prefix.length);
  const colon = userinfo.indexOf(":");
  // No colon: a user name alone, nothing secret.
  if (colon < 0) return `${before}@`;
  return `${prefix}${userinfo.slice(0, colon)}:***@`;
}

/** `password=...` in a URL query or a libpq key=value string. */
const PASSWORD_PARAM = /(\bpassword\s*=\s*)('[^']*'|"[^"]*"|[^\s&;,"']+)/gi;

/**
 * Replaces every password found in `text` with `***`.
 *
 * @example Variants of one URL
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(redactSecrets("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
 * assert.equal(redactSecrets("postgres//u:s3cret@h/db"), "postgres//u:***@h/db");
 * assert.equal(redactSecrets('got "u:s3cret@h/db"'), 'got "u:***@h/db"');
 * assert.equal(redactSecrets("postgress:u:s3cret@h"), "postgress:***@h");
 * assert.equal(redactSecrets("host=h password=s3cret"), "host=h password=***");
 * ```
 * @param text Any text (a message, a value, a whole log line).
 * @returns The text without passwords.
 */
export function redactSecrets(text: string): string {
  if (!text.includes("@") && !/password/i.test(text)) return text;
  return text
    .replace(BEFORE_AT, redactUserinfo)
    .replace(PASSWORD_PARAM, "$1***");
}
