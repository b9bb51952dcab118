/**
 * Where the example gets its settings. With no environment variables it runs against a
 * local testing IdP (no account needed); with `ZITADEL_ISSUER` set it runs against a real
 * ZITADEL and then needs the key file and the API to call as well. Half a configuration
 * is an error rather than a silent fall-back to local mode.
 */

/** Settings for a run against a real ZITADEL. */
export interface RemoteConfig {
  /** The instance URL, e.g. `https://acme.zitadel.cloud`. */
  issuer: string;
  /** Path (or JSON text) of the service user's key file. */
  keyFile: string;
  /** The protected API to call with the token. */
  apiUrl: string;
  /** The project whose API it is; the token then carries it in `aud` and its roles. */
  projectId: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

const VARIABLES = ['ZITADEL_ISSUER', 'ZITADEL_KEY_FILE', 'API_URL', 'ZITADEL_PROJECT_ID'];

/** The remote settings, or undefined for local mode when none of the variables is set. */
export function readConfig(env: Env): RemoteConfig | undefined {
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  if (VARIABLES.every((name) => value(name) === undefined)) return undefined;
  const missing = ['ZITADEL_ISSUER', 'ZITADEL_KEY_FILE', 'API_URL'].filter(
    (name) => value(name) === undefined,
  );
  if (missing.length > 0) {
    throw new Error(
      `m2m-client: set ${missing.join(', ')} as well, or unset all of ${VARIABLES.join(', ')} ` +
        'to run against the local testing IdP',
    );
  }
  return {
    issuer: value('ZITADEL_ISSUER')!,
    keyFile: value('ZITADEL_KEY_FILE')!,
    apiUrl: value('API_URL')!,
    projectId: value('ZITADEL_PROJECT_ID'),
  };
}
