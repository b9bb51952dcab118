/**
 * Key files in the exact shape the ZITADEL console downloads: an RSA key as PKCS#1 PEM
 * (`-----BEGIN RSA PRIVATE KEY-----`), which is what trips up loaders built for PKCS#8.
 * The IdP keeps only the public half, registered under the key id.
 */
import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from './ids.js';
import type { KeyFile } from './types.js';

/** An RSA key: the PKCS#1 PEM for the key file and the public key for the IdP. */
export interface RsaKey {
  readonly keyId: string;
  readonly pem: string;
  readonly publicKey: KeyObject;
}

function toRsaKey(privateKey: KeyObject, publicKey: KeyObject): RsaKey {
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return { keyId: newId(), pem, publicKey };
}

/**
 * RSA keys made ahead of time. `createApiApp` and `createServiceUser` are synchronous, and
 * generating a 2048-bit key on the spot blocks the event loop for a noticeable while; the
 * pool fills on the libuv thread pool instead and falls back to a synchronous key when empty.
 * One pool serves every IdP in the process: keys are independent of the IdP using them.
 */
export class RsaKeyPool {
  readonly #ready: RsaKey[] = [];
  #filling = 0;

  constructor(readonly size = 3) {
    this.#refill();
  }

  take(): RsaKey {
    const key = this.#ready.shift();
    this.#refill();
    if (key !== undefined) return key;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return toRsaKey(privateKey, publicKey);
  }

  #refill(): void {
    while (this.#ready.length + this.#filling < this.size) {
      this.#filling++;
      generateKeyPair('rsa', { modulusLength: 2048 }, (error, publicKey, privateKey) => {
        this.#filling--;
        if (error === null) this.#ready.push(toRsaKey(privateKey, publicKey));
      });
    }
  }
}

/** Writes a key file as JSON (mode 0600) into `dir` or a fresh temp dir; resolves the path. */
export async function writeKeyFile(keyFile: KeyFile, dir?: string): Promise<string> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'zitauth-testing-')));
  const path = join(target, `${keyFile.keyId}.json`);
  await writeFile(path, `${JSON.stringify(keyFile, null, 2)}\n`, { mode: 0o600 });
  return path;
}

let shared: RsaKeyPool | undefined;

/** The process-wide pool, created on first use. */
export function sharedRsaKeyPool(): RsaKeyPool {
  shared ??= new RsaKeyPool();
  return shared;
}
