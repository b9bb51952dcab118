/**
 * The quote API on Express. One public route, three protected ones:
 *
 *   GET  /api/public   anyone                       a fixed public quote
 *   GET  /api/quote    any signed-in caller         a random quote and who asked
 *   POST /api/quotes   callers with role `editor`   adds `{ text, author }`
 *   GET  /api/me       any signed-in caller         the verified caller (AuthContext)
 *
 * `createApp` only builds the app: it reads no environment and opens no port, so tests
 * drive it in-process and `server.ts` decides where it runs.
 */
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { auth, errorHandler, getAuth, requireRoles, type AuthOptions } from '@zitauth/express';
import { createQuoteBook, parseQuoteInput, type QuoteBook } from '@zitauth/example-quotes-common';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** How tokens are checked: verifier options (issuer, projectId, introspection…) or `{ verifier }`. */
  auth: AuthOptions;
  /** The quote store. @default a fresh in-memory book */
  quotes?: QuoteBook;
}

function addQuote(quotes: QuoteBook): RequestHandler {
  return (req: Request, res: Response): void => {
    const parsed = parseQuoteInput(req.body);
    if (!parsed.ok) {
      res.status(400).json({ error: 'invalid_request', error_description: parsed.error });
      return;
    }
    const quote = quotes.add(parsed.value, getAuth(req).subject);
    res.status(201).json({ quote });
  };
}

/** The caller as core normalized it, minus the raw claims: those are the token's business. */
function me(req: Request, res: Response): void {
  const { claims: _claims, ...caller } = getAuth(req);
  res.json(caller);
}

/**
 * Errors zitauth did not raise: body-parser's (malformed JSON 400, too large 413) keep
 * their status with a JSON body; anything else is a 500 that says nothing about internals.
 */
const fallbackErrors: ErrorRequestHandler = (error: unknown, _req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    res
      .status(status)
      .json({ error: 'invalid_request', error_description: 'The body is not acceptable JSON' });
    return;
  }
  console.error('express-quotes: unexpected error', error);
  res.status(500).json({ error: 'server_error', error_description: 'Something went wrong' });
};

/** Builds the quote API. Throws at once if the zitauth options are wrong. */
export function createApp(options: AppOptions): Express {
  const quotes = options.quotes ?? createQuoteBook();
  const authenticate = auth(options.auth);
  const app = express();
  app.disable('x-powered-by');

  app.get('/api/public', (_req, res) => {
    res.json({ quote: quotes.publicQuote() });
  });
  app.get('/api/quote', authenticate, (req, res) => {
    const caller = getAuth(req);
    res.json({
      quote: quotes.random(),
      askedBy: { subject: caller.subject, tokenKind: caller.tokenKind },
    });
  });
  // The body is parsed only after the caller is known to be an editor: anonymous or
  // unprivileged callers cannot make the API spend work on their payloads.
  app.post(
    '/api/quotes',
    authenticate,
    requireRoles('editor'),
    express.json({ limit: '4kb' }),
    addQuote(quotes),
  );
  app.get('/api/me', authenticate, me);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', error_description: 'No such route' });
  });
  app.use(errorHandler());
  app.use(fallbackErrors);
  return app;
}
