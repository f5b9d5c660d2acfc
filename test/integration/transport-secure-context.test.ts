// The TLS contexts of the transport (connector.ts secureContextCache): built once per process for
// the same identity and trust (building one parses trust anchors), and an added CA still verifies.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, createSecureContext, type SecureContext } from 'node:tls';
import { secureContextCache } from '../../src/core/transport/connector.ts';
import { type ClientIdentity, loadClientIdentity } from '../../src/core/transport/identity.ts';
import { makeTestPki } from '../helpers/pki.ts';
import { type Running, startHttpsServer, tempFiles } from '../helpers/tls-servers.ts';

type Pki = Awaited<ReturnType<typeof makeTestPki>>;
let pki: Pki;
let server: Running;
let files: ReturnType<typeof tempFiles>;

before(async () => {
  pki = await makeTestPki();
  server = await startHttpsServer({ cert: pki.server.cert, key: pki.server.key });
  files = tempFiles({ 'client.crt': pki.client.cert, 'client.key': pki.client.key });
});
after(async () => {
  await server?.close();
  files?.remove();
});

/** A cache whose factory counts the contexts it builds. */
function counting() {
  const made: unknown[] = [];
  const get = secureContextCache((options) => {
    made.push(options);
    return createSecureContext(options);
  });
  return { get, made };
}

const identity = async (): Promise<ClientIdentity> =>
  (await loadClientIdentity({ cert: files.path('client.crt'), key: files.path('client.key') }))!;

/** Whether a handshake with `secureContext` to the test server verifies its certificate. */
function verifies(secureContext: SecureContext): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = connect(
      { host: '127.0.0.1', port: server.port, secureContext, rejectUnauthorized: false },
      () => {
        const ok = s.authorized;
        s.destroy();
        resolve(ok);
      },
    );
    s.on('error', reject);
  });
}

describe('TLS contexts (connector.ts secureContextCache)', () => {
  it('one context per process for the same settings, another for other settings', () => {
    const { get, made } = counting();
    const added = get({ ca: pki.ca.cert, caMode: 'add' });
    assert.equal(get({ ca: pki.ca.cert, caMode: 'add' }), added);
    assert.equal(get({ ca: pki.ca.cert }), added, 'add is the default mode');
    assert.equal(made.length, 1);
    const replaced = get({ ca: pki.ca.cert, caMode: 'replace' });
    const roots = get({});
    assert.notEqual(replaced, added);
    assert.notEqual(roots, added);
    assert.equal(get({ ca: pki.ca.cert, caMode: 'replace' }), replaced);
    assert.equal(get({}), roots);
    assert.equal(made.length, 3);
  });

  it("an identity's context is its own, built once: the one its files were checked with", async () => {
    const { get, made } = counting();
    const kong = await identity();
    const withCert = get({ identity: kong, ca: pki.ca.cert });
    assert.equal(made.length, 0, 'the checked context is taken, not built again');
    assert.equal(get({ identity: kong, ca: pki.ca.cert }), withCert);
    assert.notEqual(get({ ca: pki.ca.cert }), withCert, 'no identity: another context');
    const other = await identity();
    assert.notEqual(get({ identity: other, ca: pki.ca.cert }), withCert);
    assert.equal(made.length, 1);
  });

  it('an added CA verifies the server, beside the roots (add) or alone (replace); the roots alone do not', async () => {
    const { get } = counting();
    const kong = await identity();
    assert.equal(await verifies(get({ ca: pki.ca.cert, caMode: 'add' })), true);
    assert.equal(await verifies(get({ ca: pki.ca.cert, caMode: 'replace' })), true);
    assert.equal(await verifies(get({ identity: kong, ca: pki.ca.cert })), true);
    // Again through the cached contexts: still trusted.
    assert.equal(await verifies(get({ ca: pki.ca.cert, caMode: 'add' })), true);
    assert.equal(await verifies(get({})), false);
  });
});
