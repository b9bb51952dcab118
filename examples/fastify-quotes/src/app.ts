/**
 * The quote API on Fastify. One public route, three protected ones:
 *
 *   GET  /api/public   anyone                       a fixed public quote
 *   GET  /api/quote    any signed-in caller         a random quote and who asked
 *   POST /api/quotes   callers with role `editor`   adds `{ text, author }`
 *   GET  /api/me       any signed-in caller         the verified caller (AuthContext)
 *
 * `createApp` only builds the app: it reads no environment and opens no port, so tests
 * drive it with `inject()` and `server.ts` decides where it runs. It is async because
 * `app.authenticate` exists only once the zitauth plugin is registered.
 */
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  errorHandler,
  isZitauthError,
  zitauth,
  type AuthContext,
  type AuthOptions,
} from '@zitauth/fastify';
import { createQuoteBook, parseQuoteInput, type QuoteBook } from '@zitauth/example-quotes-common';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** How tokens are checked: verifier options (issuer, projectId, introspection…) or `{ verifier }`. */
  auth: AuthOptions;
  /** The quote store. @default a fresh in-memory book */
  quotes?: QuoteBook;
}

/** Largest accepted request body, in bytes. */
const BODY_LIMIT = 4096;

/** `request.auth` on a route behind `app.authenticate`: set, or the hook would have refused. */
function callerOf(request: FastifyRequest): AuthContext {
  if (request.auth === null) throw new Error('route is missing onRequest: app.authenticate');
  return request.auth;
}

/**
 * One error handler for the app: zitauth's errors through zitauth's renderer, Fastify's
 * own 4xx (malformed JSON, body too large) as the same `{ error, error_description }`
 * shape, anything else as a 500 that says nothing about internals.
 */
function renderErrors(app: FastifyInstance): void {
  const zitauthErrors = errorHandler();
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isZitauthError(error)) return zitauthErrors(error, request, reply);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ error: 'invalid_request', error_description: 'The body is not acceptable JSON' });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply
      .code(500)
      .send({ error: 'server_error', error_description: 'Something went wrong' });
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: 'not_found', error_description: 'No such route' });
  });
}

function routes(app: FastifyInstance, quotes: QuoteBook): void {
  app.get('/api/public', async () => ({ quote: quotes.publicQuote() }));
  app.get('/api/quote', { onRequest: app.authenticate }, async (request) => {
    const caller = callerOf(request);
    return {
      quote: quotes.random(),
      askedBy: { subject: caller.subject, tokenKind: caller.tokenKind },
    };
  });
  // `onRequest` runs before the body is read, so anonymous callers cost no parsing; the
  // role check is a `preHandler` (after parsing), so the body limit bounds what others cost.
  app.post(
    '/api/quotes',
    { onRequest: app.authenticate, preHandler: app.requireRoles('editor'), bodyLimit: BODY_LIMIT },
    async (request, reply) => {
      const parsed = parseQuoteInput(request.body);
      if (!parsed.ok)
        return reply.code(400).send({ error: 'invalid_request', error_description: parsed.error });
      return reply.code(201).send({ quote: quotes.add(parsed.value, callerOf(request).subject) });
    },
  );
  app.get('/api/me', { onRequest: app.authenticate }, async (request) => {
    // The caller as core normalized it, minus the raw claims: those are the token's business.
    const { claims: _claims, ...caller } = callerOf(request);
    return caller;
  });
}

/** Builds the quote API. Rejects at once if the zitauth options are wrong. */
export async function createApp(options: AppOptions): Promise<FastifyInstance> {
  const quotes = options.quotes ?? createQuoteBook();
  const app = Fastify();
  // The app renders every error itself (below), zitauth's included.
  await app.register(zitauth, { ...options.auth, errorHandler: false });
  renderErrors(app);
  routes(app, quotes);
  return app;
}
