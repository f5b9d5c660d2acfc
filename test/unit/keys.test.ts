// src/core/pki/keys.ts: key pairs that a garbage collection during their export can never hang.
// Node 20's generateKeyPairSync hands out KeyObjects that share a lock with the job that made
// them; a GC during a JWK export of one can finalise that job, whose destructor then waits for the
// lock the export holds (a futex wait for good; it hung `smoke --dpop`). The loop below generates
// and exports keys while it makes garbage: with Node's own KeyObjects it usually hangs within a few
// thousand rounds; with ours it must finish. Each run is a child process with a deadline.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { newKeyPair, newKeyPairSync } from '../../src/core/pki/keys.ts';

const KEYS = fileURLToPath(new URL('../../src/core/pki/keys.ts', import.meta.url));
const ROUNDS = 4000;

/** Runs the generate-and-export loop with `make` (an expression for a private KeyObject). */
function exportLoop(make: string, timeout: number) {
  const script = `
    import { generateKeyPairSync } from 'node:crypto';
    import { newKeyPairSync } from ${JSON.stringify(KEYS)};
    let junk = [];
    for (let i = 0; i < ${ROUNDS}; i++) {
      const key = ${make};
      key.export({ format: 'jwk' });
      junk.push(new Array(50).fill(i));
      if (junk.length > 100) junk = [];
    }
    process.stdout.write('done');
  `;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout,
    killSignal: 'SIGKILL',
  });
}

describe('key pairs', () => {
  it(`${ROUNDS} keys made and exported to JWK among garbage: never hangs`, () => {
    const r = exportLoop("newKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey", 120_000);
    assert.equal(r.signal, null, 'the loop hung (killed at its deadline)');
    assert.equal(r.stdout, 'done', r.stderr);
  });

  it('every type, sync and on the thread pool: usable KeyObjects of the asked type', async () => {
    const ec = newKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.equal(ec.privateKey.asymmetricKeyType, 'ec');
    assert.equal(ec.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.equal(newKeyPairSync('ed25519').privateKey.asymmetricKeyType, 'ed25519');
    assert.equal(newKeyPairSync('x25519').publicKey.asymmetricKeyType, 'x25519');
    const rsa = await newKeyPair('rsa', { modulusLength: 2048 });
    assert.equal(rsa.privateKey.type, 'private');
    assert.equal(rsa.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    const jwk = ec.privateKey.export({ format: 'jwk' });
    assert.equal(jwk.crv, 'P-384');
    assert.ok(jwk.d, 'the private key exports its private part');
  });
});
