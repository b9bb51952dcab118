/**
 * Ready-to-paste shell lines for trying the API by hand: one `export` per sample token,
 * then a `curl` per route. These are the only places a token is ever printed, on purpose,
 * and they are labelled as test tokens of the local IdP (worthless anywhere else).
 */
import type { SampleCallers } from './local-idp.js';

/** Single-quotes a value for POSIX shells. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The `export` lines and `curl` commands for `baseUrl`, indented by two spaces. */
export function sampleCommands(baseUrl: string, callers: SampleCallers): string[] {
  const body = JSON.stringify({ text: 'Tokens are like milk: best fresh.', author: 'You' });
  const bearer = (name: string): string => `-H "Authorization: Bearer $${name}"`;
  return [
    '# Test tokens from the local IdP: valid for an hour, and only against it.',
    `export EDITOR_TOKEN=${shellQuote(callers.editor.token)}   # ${callers.editor.name}: ${callers.editor.description}`,
    `export READER_TOKEN=${shellQuote(callers.reader.token)}   # ${callers.reader.name}: ${callers.reader.description}`,
    `export BOT_TOKEN=${shellQuote(callers.bot.token)}   # ${callers.bot.name}: ${callers.bot.description}`,
    '',
    `curl -i ${baseUrl}/api/public`,
    `curl -i ${baseUrl}/api/quote`,
    `curl -i ${baseUrl}/api/quote ${bearer('BOT_TOKEN')}`,
    `curl -i ${baseUrl}/api/me ${bearer('READER_TOKEN')}`,
    `curl -i ${baseUrl}/api/quotes ${bearer('READER_TOKEN')} -H 'Content-Type: application/json' -d ${shellQuote(body)}`,
    `curl -i ${baseUrl}/api/quotes ${bearer('EDITOR_TOKEN')} -H 'Content-Type: application/json' -d ${shellQuote(body)}`,
  ].map((line) => (line === '' ? line : `  ${line}`));
}
