/**
 * A backend service's side of the gateway's M2M route: ask `POST /api/v1/m2m/token` with
 * the service's client id and secret (HTTP Basic), keep the token until shortly before it
 * expires, and call a protected API with it. The service never sees a ZITADEL key: the
 * gateway holds the service user's key and does the JWT bearer grant.
 */

/** Options of {@link createGatewayTokenSource}. */
export interface GatewayClientOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8000`. */
  gatewayUrl: string;
  /** This service's id, as listed in the gateway's `GATEWAY_M2M_CLIENTS`. */
  clientId: string;
  /** This service's secret (the gateway keeps only its SHA-256). */
  clientSecret: string;
  /** Get a new token this long before the current one expires, in milliseconds. @default 60000 */
  refreshMarginMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** A refusal or failure of the gateway, with its status and OAuth error code. */
export class GatewayTokenError extends Error {
  override name = 'GatewayTokenError';
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(`the gateway answered ${status} ${error}: ${description}`);
  }
}

/** Keeps one token from the gateway fresh. */
export interface GatewayTokenSource {
  getToken(): Promise<string>;
}

/** `Authorization: Basic`, with id and secret form-encoded first (RFC 6749 §2.3.1). */
function basic(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export function createGatewayTokenSource(options: GatewayClientOptions): GatewayTokenSource {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const margin = options.refreshMarginMs ?? 60_000;
  let cached: { token: string; refreshAt: number } | undefined;

  async function request(): Promise<{ token: string; refreshAt: number }> {
    const response = await fetchImpl(new URL('/api/v1/m2m/token', options.gatewayUrl), {
      method: 'POST',
      headers: {
        authorization: basic(options.clientId, options.clientSecret),
        accept: 'application/json',
      },
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok || typeof body['access_token'] !== 'string') {
      throw new GatewayTokenError(
        response.status,
        String(body['error'] ?? 'unknown'),
        String(body['error_description'] ?? 'no description'),
      );
    }
    const lifetimeMs = Number(body['expires_in'] ?? 0) * 1000;
    return {
      token: body['access_token'],
      refreshAt: Date.now() + lifetimeMs - Math.min(margin, lifetimeMs / 2),
    };
  }

  return {
    async getToken() {
      if (cached === undefined || Date.now() >= cached.refreshAt) cached = await request();
      return cached.token;
    },
  };
}

/** A quote from the quote API, as `GET /api/quote` returns it. */
export interface QuoteAnswer {
  quote: { id: number; text: string; author: string };
  askedBy: { subject: string; tokenKind: string };
}

/** Calls `GET /api/quote` with the token. Throws with the API's status when it refuses. */
export async function fetchQuote(
  apiUrl: string,
  token: string,
  fetchImpl: typeof fetch = fetch,
): Promise<QuoteAnswer> {
  const response = await fetchImpl(new URL('/api/quote', apiUrl), {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`the quote API answered ${response.status}`);
  return (await response.json()) as QuoteAnswer;
}
