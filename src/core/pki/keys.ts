// Key pairs come from Node's native crypto: fast for every type (node-forge's pure-JS RSA
// generation takes about a second).

import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { usageError } from '../errors.ts';

export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096', 'ed25519'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function parseKeyType(value: string): KeyType {
  const v = value.toLowerCase();
  if ((KEY_TYPES as readonly string[]).includes(v)) return v as KeyType;
  throw usageError('UNKNOWN_KEY_TYPE', `unknown key type "${value}"`, {
    hint: `use one of: ${KEY_TYPES.join(', ')}`,
  });
}

const gen = promisify(generateKeyPair) as (type: string, options: object) => Promise<KeyPair>;

/**
 * A new key pair. EC and Ed25519 keys take microseconds and are made on the spot; RSA keys take
 * 100 ms or more and are made on libuv's thread pool, so that two of them grow in parallel.
 */
export async function generateKey(type: KeyType): Promise<KeyPair> {
  switch (type) {
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    default:
      return gen('rsa', { modulusLength: Number(type.slice(4)) });
  }
}

/** "EC P-256", "RSA 2048", "Ed25519". */
export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      return `EC ${d.namedCurve === 'prime256v1' ? 'P-256' : d.namedCurve === 'secp384r1' ? 'P-384' : d.namedCurve === 'secp521r1' ? 'P-521' : d.namedCurve}`;
    case 'rsa':
      return `RSA ${d.modulusLength}`;
    case 'rsa-pss':
      return `RSA-PSS ${d.modulusLength}`;
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    default:
      return String(key.asymmetricKeyType);
  }
}

export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}
