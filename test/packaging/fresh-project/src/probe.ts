// Calls a running app the way a client would and prints one line per answer, so the test
// compares what each framework answered. Every app serves GET /me (signed-in callers) and
// GET /admin (role `admin`).
import type { TestIdp } from '@zitauth/testing';

async function answer(url: string, token?: string): Promise<string> {
  const headers: Record<string, string> =
    token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await fetch(url, { headers });
  const body = await res.text();
  return `${res.status} ${res.headers.get('www-authenticate') ?? '-'} ${body}`;
}

/** The answers of `base` to no token, a reader's token and an admin's token. */
export async function probe(base: string, idp: TestIdp): Promise<string[]> {
  const reader = await idp.mintAccessToken({ subject: '100000000000000001', roles: ['reader'] });
  const admin = await idp.mintAccessToken({ subject: '100000000000000002', roles: ['admin'] });
  return [
    await answer(`${base}/me`),
    await answer(`${base}/me`, reader),
    await answer(`${base}/admin`, reader),
    await answer(`${base}/admin`, admin),
  ];
}
