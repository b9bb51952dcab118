// Token sets the benchmarks share: distinct valid tokens, distinct forged ones, and the
// IdP's public keys. Forged tokens keep a valid header and payload and flip one byte in
// the middle of the signature, so every one is refused only by the signature check.
/** @param {{ mintAccessToken: (o?: object) => Promise<string> }} idp */
export async function distinctTokens(idp, count, options = {}) {
  const tokens = [];
  for (let i = 0; i < count; i += 1)
    tokens.push(await idp.mintAccessToken({ roles: ['reader'], ...options }));
  return tokens;
}

/** `token` with one signature byte flipped: same header and claims, a signature that fails. */
export function flipSignature(token, at = 0.5) {
  const dot = token.lastIndexOf('.');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  signature[Math.floor(signature.length * at)] ^= 0x01;
  return `${token.slice(0, dot + 1)}${signature.toString('base64url')}`;
}

export async function rotatingBadSignatures(idp, count, options = {}) {
  return (await distinctTokens(idp, count, options)).map((token) => flipSignature(token));
}

/** The IdP's JWKS, by `kid`. */
export async function publicJwks(issuer) {
  const { keys } = await (await fetch(`${issuer}/oauth/v2/keys`)).json();
  return new Map(keys.map((jwk) => [jwk.kid, jwk]));
}
