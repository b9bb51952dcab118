// passport ships no types; the suite uses three calls of it, typed here rather than adding
// @types/passport for a dev-only test.
declare module 'passport' {
  import type { RequestHandler } from 'express';
  interface Passport {
    initialize(): RequestHandler;
    use(strategy: unknown): Passport;
    authenticate(name: string, options: { session: boolean }): RequestHandler;
  }
  const passport: Passport;
  export default passport;
}
