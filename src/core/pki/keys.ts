// Key pairs come from Node's native crypto: fast for every type (node-forge's pure-JS RSA
// generation takes about a second).

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
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

// Node 20 hands out the KeyObjects of generateKeyPair(Sync) sharing a lock with the job that made
// them. When a garbage collection during a later export of such a key (to JWK, to PEM) finalises
// that job, its destructor waits for the lock the export holds, and the process hangs for good
// (seen in `smoke --dpop`: a futex wait in ~KeyGenJob under ExportJWK; test/unit/keys.test.ts
// reproduces it). So every key pair is generated as PEM and read back: objects of their own.
const PEM = {
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
};

type PemPair = { publicKey: string; privateKey: string };
export type PairType = 'ec' | 'rsa' | 'ed25519' | 'x25519';
export type PairOptions = { namedCurve?: string; modulusLength?: number };

function fromPem(pair: PemPair): KeyPair {
  return { publicKey: createPublicKey(pair.publicKey), privateKey: createPrivateKey(pair.privateKey) };
}

// With PEM encodings both generators return strings (their overloads per type say so; one signature here).
const generatePemSync = generateKeyPairSync as (type: PairType, options: object) => PemPair;
const generatePem = promisify(generateKeyPair) as (type: PairType, options: object) => Promise<PemPair>;

/** A new key pair, made on the spot: microseconds for EC and Ed25519, 100 ms or more for RSA. */
export function newKeyPairSync(type: PairType, options: PairOptions = {}): KeyPair {
  return fromPem(generatePemSync(type, { ...options, ...PEM }));
}

/** A new key pair, made on libuv's thread pool (for RSA, so that two grow in parallel). */
export async function newKeyPair(type: PairType, options: PairOptions = {}): Promise<KeyPair> {
  return fromPem(await generatePem(type, { ...options, ...PEM }));
}

/**
 * A new key pair. EC and Ed25519 keys take microseconds and are made on the spot; RSA keys take
 * 100 ms or more and are made on libuv's thread pool, so that two of them grow in parallel.
 */
export async function generateKey(type: KeyType): Promise<KeyPair> {
  switch (type) {
    case 'ec-p256':
      return newKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ec-p384':
      return newKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ed25519':
      return newKeyPairSync('ed25519');
    default:
      return newKeyPair('rsa', { modulusLength: Number(type.slice(4)) });
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
