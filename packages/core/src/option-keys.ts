/**
 * Unknown option keys are refused where an options object is read. In plain JavaScript
 * (and in TypeScript through a spread or a variable) a misspelt key is simply ignored:
 * `issur` leaves the issuer unset, `authRequierd: false` leaves auth required, and a
 * misspelt `org` on a role guard would grant a role held in any organisation. The error
 * names the key, where it was found, and the closest known key.
 */
import { ZitauthConfigError } from './errors.js';

/**
 * The keys of an options type, listed once: `optionKeys<VerifierOptions>({ issuer: true, … })`
 * does not compile when a key of the type is missing from the list or one is extra, so the
 * list cannot drift from the type.
 */
export function optionKeys<T>(keys: Record<keyof T, true>): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/**
 * Edit distance between two strings, counting a swap of two neighbouring characters as
 * one edit (optimal string alignment): `authRequierd` is one edit from `authRequired`.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i += 1) rows.push([i]);
  for (let j = 1; j <= b.length; j += 1) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i += 1) {
    const row = rows[i]!;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
      }
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known key `key` most likely meant, if one is close enough to be a typo: at most a
 * third of the key's length in edits (at least one, at most three), ignoring case.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = key.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** A key as it may appear in a message: printable and short, whatever the caller passed. */
function printable(key: string): string {
  const clean = key.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

/**
 * Throws `ZitauthConfigError` for the first own key of `options` that is not in `known`.
 * `where` names the object in the message (`createVerifier`, `cache`, `issuers[1]`, …);
 * `prefix` starts it (`zitauth`, `@zitauth/redis`). Non-objects are left to the caller.
 */
export function checkOptionKeys(
  options: unknown,
  known: readonly string[],
  where: string,
  prefix = 'zitauth',
): void {
  if (typeof options !== 'object' || options === null) return;
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = closestKey(key, known);
    const hint =
      guess === undefined ? `known options: ${known.join(', ')}` : `did you mean "${guess}"?`;
    throw new ZitauthConfigError(
      `${prefix}: unknown option "${printable(key)}" in ${where}; ${hint}`,
    );
  }
}
