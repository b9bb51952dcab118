/**
 * The quote API on Koa with @koa/router. One public route, three protected ones:
 *
 *   GET  /api/public   anyone                       a fixed public quote
 *   GET  /api/quote    any signed-in caller         a random quote and who asked
 *   POST /api/quotes   callers with role `editor`   adds `{ text, author }`
 *   GET  /api/me       any signed-in caller         the verified caller (AuthContext)
 *
 * `createApp` only builds the app: it reads no environment and opens no port, so tests
 * drive it in-process (`app.callback()`) and `server.ts` decides where it runs.
 */
import Koa, { type Context, type Middleware } from 'koa';
import Router from '@koa/router';
import getRawBody from 'raw-body';
import {
  auth,
  errorHandler,
  getAuth,
  requireRoles,
  type AuthOptions,
  type AuthState,
} from '@zitauth/koa';
import { createQuoteBook, parseQuoteInput, type QuoteBook } from '@zitauth/example-quotes-common';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** How tokens are checked: verifier options (issuer, projectId, introspection…) or `{ verifier }`. */
  auth: AuthOptions;
  /** The quote store. @default a fresh in-memory book */
  quotes?: QuoteBook;
}

/** `ctx.state`: the caller from zitauth, and the parsed JSON body where a route reads one. */
type State = AuthState & { body?: unknown };

/** Largest accepted request body, in bytes. */
const BODY_LIMIT = 4096;

function badRequest(ctx: Context, status: number, description: string): void {
  ctx.status = status;
  ctx.body = { error: 'invalid_request', error_description: description };
}

/**
 * Reads a JSON body into `ctx.state.body` with a size cap (raw-body enforces it and the
 * declared length). Other content types leave it unset, which the handler refuses.
 */
const jsonBody: Middleware<State> = async (ctx, next) => {
  if (ctx.is('application/json') === 'application/json') {
    let text: string;
    try {
      text = await getRawBody(ctx.req, {
        length: ctx.get('content-length') || null,
        limit: BODY_LIMIT,
        encoding: 'utf8',
      });
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      badRequest(ctx, status === 413 ? 413 : 400, 'The body is not acceptable JSON');
      return;
    }
    try {
      ctx.state.body = JSON.parse(text) as unknown;
    } catch {
      badRequest(ctx, 400, 'The body is not acceptable JSON');
      return;
    }
  }
  await next();
};

function addQuote(quotes: QuoteBook): Middleware<State> {
  return (ctx) => {
    const parsed = parseQuoteInput(ctx.state.body);
    if (!parsed.ok) {
      badRequest(ctx, 400, parsed.error);
      return;
    }
    ctx.status = 201;
    ctx.body = { quote: quotes.add(parsed.value, getAuth(ctx).subject) };
  };
}

function routes(quotes: QuoteBook, options: AppOptions): Router<State> {
  const authenticate = auth(options.auth);
  const router = new Router<State>();
  router.get('/api/public', (ctx) => {
    ctx.body = { quote: quotes.publicQuote() };
  });
  router.get('/api/quote', authenticate, (ctx) => {
    const caller = getAuth(ctx);
    ctx.body = {
      quote: quotes.random(),
      askedBy: { subject: caller.subject, tokenKind: caller.tokenKind },
    };
  });
  // The body is read only after the caller is known to be an editor: anonymous or
  // unprivileged callers cannot make the API spend work on their payloads.
  router.post('/api/quotes', authenticate, requireRoles('editor'), jsonBody, addQuote(quotes));
  router.get('/api/me', authenticate, (ctx) => {
    // The caller as core normalized it, minus the raw claims: those are the token's business.
    const { claims: _claims, ...caller } = getAuth(ctx);
    ctx.body = caller;
  });
  return router;
}

/**
 * Outermost: errors zitauth did not raise become a 500 that says nothing about internals,
 * in the same JSON shape as every other answer; Koa's `app.on('error')` still sees them.
 */
const serverErrors: Middleware<State> = async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    ctx.status = 500;
    ctx.body = { error: 'server_error', error_description: 'Something went wrong' };
    ctx.app.emit('error', error, ctx);
  }
};

/** Builds the quote API. Throws at once if the zitauth options are wrong. */
export function createApp(options: AppOptions): Koa<State> {
  const quotes = options.quotes ?? createQuoteBook();
  const router = routes(quotes, options);
  const app = new Koa<State>();
  app.use(serverErrors);
  // Before the routes, so it renders the zitauth errors every later middleware throws.
  app.use(errorHandler());
  app.use(router.routes());
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = { error: 'not_found', error_description: 'No such route' };
  });
  return app;
}
