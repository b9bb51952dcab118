/**
 * The quote book behind the API: a few seeded quotes plus the ones editors add, kept in
 * memory. Input from a request is checked here, field by field, so the route handler
 * only ever sees a well-formed quote and a client gets a message naming the bad field.
 */

/** A quote as the API returns it. */
export interface Quote {
  readonly id: number;
  readonly text: string;
  readonly author: string;
  /** The subject (user or service user id) of the editor who added it; absent for seeds. */
  readonly addedBy?: string;
}

/** What a client sends to add a quote. */
export interface QuoteInput {
  readonly text: string;
  readonly author: string;
}

/** The checked body, or why it was refused. */
export type ParsedQuote = { ok: true; value: QuoteInput } | { ok: false; error: string };

/** The in-memory store of quotes. */
export interface QuoteBook {
  /** The quote anyone may read. */
  publicQuote(): Quote;
  /** A quote picked at random from all of them. */
  random(): Quote;
  /** Adds a quote and returns it with its id. */
  add(input: QuoteInput, addedBy: string): Quote;
}

/** Options of {@link createQuoteBook}. */
export interface QuoteBookOptions {
  /** A number in [0, 1) that picks the random quote; injectable for tests. @default Math.random */
  random?: () => number;
}

const MAX_TEXT = 280;
const MAX_AUTHOR = 80;
/** Added quotes kept at most; the oldest go first, so no client can grow memory without bound. */
const MAX_ADDED = 1000;

const SEEDS: readonly QuoteInput[] = [
  { text: 'Trust, but verify.', author: 'Russian proverb' },
  { text: 'Simplicity is prerequisite for reliability.', author: 'Edsger W. Dijkstra' },
  { text: 'Make it work, make it right, make it fast.', author: 'Kent Beck' },
  { text: 'The best way to predict the future is to invent it.', author: 'Alan Kay' },
  { text: 'Premature optimization is the root of all evil.', author: 'Donald Knuth' },
];

/** Creates a quote book holding the seed quotes. */
export function createQuoteBook(options: QuoteBookOptions = {}): QuoteBook {
  const pick = options.random ?? Math.random;
  const seeds: Quote[] = SEEDS.map((quote, index) => ({ id: index + 1, ...quote }));
  const added: Quote[] = [];
  let nextId = seeds.length + 1;
  return {
    publicQuote: () => seeds[0]!,
    random() {
      const all = [...seeds, ...added];
      const index = Math.min(all.length - 1, Math.floor(pick() * all.length));
      return all[index]!;
    },
    add(input, addedBy) {
      const quote: Quote = { id: nextId++, text: input.text, author: input.author, addedBy };
      added.push(quote);
      if (added.length > MAX_ADDED) added.shift();
      return quote;
    },
  };
}

function field(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const value = body[name];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= max ? trimmed : undefined;
}

/** Checks a request body of the form `{ text, author }`. */
export function parseQuoteInput(body: unknown): ParsedQuote {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'The body must be a JSON object { "text": …, "author": … }' };
  }
  const record = body as Record<string, unknown>;
  const text = field(record, 'text', MAX_TEXT);
  if (text === undefined) {
    return {
      ok: false,
      error: `text must be a non-empty string of at most ${MAX_TEXT} characters`,
    };
  }
  const author = field(record, 'author', MAX_AUTHOR);
  if (author === undefined) {
    return {
      ok: false,
      error: `author must be a non-empty string of at most ${MAX_AUTHOR} characters`,
    };
  }
  return { ok: true, value: { text, author } };
}
