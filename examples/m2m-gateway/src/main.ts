/**
 * The seed's M2M simulation against the gateway: get a token, call the protected quote
 * API with it, print what happened (never the token). Start the gateway and the quote
 * API first; with the gateway's embedded test IdP, use the demo caller it prints.
 *
 *   GATEWAY_URL         default http://127.0.0.1:8000
 *   M2M_CLIENT_ID       default demo-service
 *   M2M_CLIENT_SECRET   required
 *   QUOTES_API_URL      default http://127.0.0.1:3000
 */
import { createGatewayTokenSource, fetchQuote } from './client.js';

const secret = process.env['M2M_CLIENT_SECRET'];
if (secret === undefined || secret === '') {
  console.error(
    "M2M_CLIENT_SECRET is required (the gateway prints the demo caller's secret at start)",
  );
  process.exit(1);
}
const gatewayUrl = process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:8000';
const apiUrl = process.env['QUOTES_API_URL'] ?? 'http://127.0.0.1:3000';
const source = createGatewayTokenSource({
  gatewayUrl,
  clientId: process.env['M2M_CLIENT_ID'] ?? 'demo-service',
  clientSecret: secret,
});

try {
  console.log(`Requesting an M2M token from ${gatewayUrl} …`);
  const token = await source.getToken();
  console.log(`Token received (${token.length} characters). Calling ${apiUrl}/api/quote …`);
  const { quote, askedBy } = await fetchQuote(apiUrl, token);
  console.log(`“${quote.text}” — ${quote.author}`);
  console.log(`The API saw the caller ${askedBy.subject} (${askedBy.tokenKind} token).`);
} catch (error) {
  console.error(`Failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
