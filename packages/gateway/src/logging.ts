/**
 * Log settings that keep credentials out of every line. Fastify logs each request's URL:
 * the callback's carries the authorization code and state, so query values that are
 * credentials are replaced before serialization. Headers are never logged by the request
 * serializer; redaction paths cover `Authorization`, cookies and `Location` (which holds
 * the token fragment) in case a handler logs them. Errors are logged by name, code and
 * message only: oauth4webapi keeps the raw token response in `cause`.
 */
import type { FastifyServerOptions } from 'fastify';

/** Query parameters whose values are credentials or lead to one. */
const SECRET_PARAMS = new Set([
  'code',
  'state',
  'access_token',
  'id_token',
  'id_token_hint',
  'refresh_token',
  'token',
  'client_secret',
  'assertion',
  'code_verifier',
]);

const REDACTED = '[redacted]';

/**
 * True for a credential parameter, and for any name written with percent escapes:
 * `%63ode` is `code` to the server, and an undecodable name is not worth the risk.
 */
function isSecretName(name: string): boolean {
  if (name.includes('%')) return true;
  return SECRET_PARAMS.has(name.toLowerCase());
}

/** The URL with credential values in its query replaced and any fragment dropped. */
export function redactUrl(url: string): string {
  const withoutFragment = url.split('#', 1)[0] ?? '';
  const queryStart = withoutFragment.indexOf('?');
  if (queryStart < 0) return withoutFragment;
  const query = withoutFragment
    .slice(queryStart + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0] ?? '';
      return isSecretName(name) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${withoutFragment.slice(0, queryStart)}?${query}`;
}

/** Options of {@link loggerOptions}. */
export interface LogOptions {
  /** pino level, e.g. `info`, `warn`, `silent`. @default 'info' */
  level?: string | undefined;
  /** Where lines go (tests pass a stream to read them). @default stdout */
  stream?: { write(line: string): void } | undefined;
}

type ErrorLike = { name?: unknown; code?: unknown; message?: unknown; statusCode?: unknown };

/** Fastify logger options with the serializers and redaction above. */
export function loggerOptions(options: LogOptions): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: options.level ?? 'info',
    ...(options.stream === undefined ? {} : { stream: options.stream }),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers.location',
        'res.headers["set-cookie"]',
        'headers.authorization',
        'headers.cookie',
      ],
      censor: REDACTED,
    },
    serializers: {
      req: (req) => ({
        method: req.method,
        url: redactUrl(req.url ?? ''),
        remoteAddress: req.ip,
      }),
      res: (reply) => ({ statusCode: reply.statusCode }),
      err: (error: ErrorLike) => ({
        type: String(error.name ?? 'Error'),
        message: String(error.message ?? ''),
        stack: '',
        ...(error.code === undefined ? {} : { code: String(error.code) }),
        ...(error.statusCode === undefined ? {} : { statusCode: Number(error.statusCode) }),
      }),
    },
  };
}
