// One diagnosis: every command that talks to an endpoint gives the same verdict on its connection.
// One table of TLS situations, each run through the built CLI three ways (`tls URL --json`,
// `smoke --steps tls --json`, `token -v`), asserting the same status and the same code from each.
// The servers: Node https servers (which can answer the token request) and `openssl s_server`
// (which sends the TLS alerts), on 127.0.0.1.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { type CliResult, jsonOf, runCli } from '../helpers/cli.ts';
import {
  makeTransportPki,
  type Running,
  startHttpsServer,
  startOpensslServer,
  startPlainHttpServer,
  type TransportPki,
} from '../helpers/tls-servers.ts';

let pki: TransportPki;
before(async () => {
  pki = await makeTransportPki();
});
after(() => pki?.remove());

/** A token endpoint as an IdP behind TLS would be: a token for a verified client certificate, else invalid_client. */
function tokenEndpoint(req: IncomingMessage, res: ServerResponse) {
  res.setHeader('content-type', 'application/json');
  if (req.method !== 'POST') return void res.end('{"ok":true}');
  const socket = req.socket as TLSSocket;
  if (socket.authorized) {
    res.end(JSON.stringify({ access_token: 'at-0123456789abcdef', token_type: 'Bearer', expires_in: 60 }));
    return;
  }
  res.statusCode = 401;
  res.end(JSON.stringify({ error: 'invalid_client', error_description: 'client authentication failed' }));
}

type Status = 'pass' | 'warn' | 'fail';
interface Case {
  name: string;
  start(): Promise<Running>;
  /** the client certificate (NAME.crt/NAME.key) or none */
  client?: string;
  /** http:// instead of the server's own scheme */
  scheme?: 'http';
  status: Status;
  code?: string;
  /** said by every command (the acceptable CAs, for the foreign CA) */
  says?: RegExp;
}

const node =
  (o: { server?: 'server' | 'serverOtherCa' | 'serverWrongHost'; ca?: boolean; enforce?: boolean } = {}) =>
  () =>
    startHttpsServer({
      cert: pki[o.server ?? 'server'].cert,
      key: pki[o.server ?? 'server'].key,
      ...(o.ca ? { ca: pki.ca.cert, requestCert: true, rejectUnauthorized: o.enforce ?? true } : {}),
      handler: tokenEndpoint,
    });
const openssl =
  (noCaNames = false) =>
  () =>
    startOpensslServer({
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca.cert,
      clientAuth: 'require',
      noCaNames,
    });

const CASES: Case[] = [
  { name: 'accepted', start: node({ ca: true }), client: 'client', status: 'pass' },
  {
    name: 'not requested',
    start: node(),
    client: 'client',
    status: 'warn',
    code: 'TLS_CLIENT_CERT_NOT_REQUESTED',
  },
  {
    name: 'requested but none configured',
    start: node({ ca: true, enforce: false }),
    status: 'warn',
    code: 'TLS_NO_CLIENT_CERT',
    says: /CN=Test CA,O=mtls-oauth tests/,
  },
  {
    name: 'issuer not among the acceptable CAs, the handshake completes',
    start: node({ ca: true, enforce: false }),
    client: 'client-other',
    status: 'warn',
    code: 'TLS_CLIENT_CA_NOT_LISTED',
    says: /CN=Test CA,O=mtls-oauth tests/,
  },
  {
    name: 'refused: unknown_ca',
    start: openssl(true),
    client: 'client-other',
    status: 'fail',
    code: 'TLS_CLIENT_CERT_REJECTED',
  },
  {
    name: 'refused: certificate_required',
    start: node({ ca: true }),
    status: 'fail',
    code: 'TLS_CLIENT_CERT_REQUIRED',
  },
  {
    name: 'refused: bad_certificate (not yet valid)',
    start: openssl(),
    client: 'client-future',
    status: 'fail',
    code: 'TLS_CLIENT_CERT_REJECTED',
  },
  {
    name: 'expired client certificate',
    start: openssl(),
    client: 'client-expired',
    status: 'fail',
    code: 'TLS_CLIENT_CERT_REJECTED',
  },
  {
    name: 'untrusted server certificate',
    start: node({ server: 'serverOtherCa' }),
    client: 'client',
    status: 'fail',
    code: 'TLS_SERVER_UNTRUSTED',
  },
  {
    name: 'hostname mismatch',
    start: node({ server: 'serverWrongHost' }),
    client: 'client',
    status: 'fail',
    code: 'TLS_HOSTNAME_MISMATCH',
  },
  {
    name: 'plain HTTP on the TLS port',
    start: async () => {
      const s = await startPlainHttpServer();
      return { ...s, url: s.url.replace(/^http:/, 'https:') };
    },
    client: 'client',
    status: 'fail',
    code: 'NOT_TLS',
  },
  {
    name: 'TLS on a plain port',
    start: node({ ca: true }),
    scheme: 'http',
    client: 'client',
    status: 'fail',
    code: 'TLS_EXPECTED',
  },
];

interface Seen {
  status?: string;
  code?: string;
  /** all the command said, for `says` */
  text: string;
}

/** `tls URL --json`: the verdict in the result, or (failed) in the error's details. */
function fromTls(r: CliResult): Seen {
  const doc = jsonOf(r);
  const v = doc.ok ? doc.result.verdict : doc.error?.details?.verdict;
  assert.equal(doc.ok ? r.code : 3, r.code, r.stderr);
  if (!doc.ok) assert.equal(v?.code, doc.error?.code, 'the failure is the verdict');
  return { status: v?.status, code: v?.code, text: r.stdout };
}

/** `smoke --steps tls --json`: the tls step, its status, and the verdict of its one probe. */
function fromSmoke(r: CliResult): Seen {
  const step = jsonOf(r).result.steps.find((s: { name: string }) => s.name === 'tls');
  const v = step.data.probes[0].verdict;
  assert.equal(step.status, v.status, 'the step is its verdict');
  if (v.status === 'fail') assert.equal(step.error.code, v.code);
  return { status: v.status, code: v.code, text: r.stdout };
}

/** `token -v`: the verdict line of its connection in the verbose log. */
function fromToken(r: CliResult): Seen {
  const m = r.stderr.match(/^\* verdict: (pass|warn|fail)(?: ([A-Z0-9_]+))?:/m);
  assert.ok(m, `no verdict line in:\n${r.stderr}`);
  return { status: m[1], code: m[2], text: r.stderr };
}

describe('one verdict: tls, smoke --steps tls and token -v agree', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.status}${c.code ? ` ${c.code}` : ''}`, async (t) => {
      const s = await c.start();
      t.after(() => s.close());
      const url = `${c.scheme === 'http' ? s.url.replace(/^https:/, 'http:') : s.url}/token`;
      const cert = c.client
        ? ['--cert', pki.path(`${c.client}.crt`), '--key', pki.path(`${c.client}.key`)]
        : [];
      const trust = ['--ca', pki.path('ca.crt'), '--timeout', '10'];
      const client = [
        '--client-id',
        'kong',
        ...(c.client ? [] : ['--auth', 'client_secret_post', '--client-secret', 'parity-secret-0123456789']),
      ];
      const [tls, smoke, token] = await Promise.all([
        runCli(['tls', url, ...cert, ...trust, '--json']),
        runCli(['smoke', '--steps', 'tls', '--token-endpoint', url, ...cert, ...trust, ...client, '--json']),
        runCli(['token', '--token-endpoint', url, ...cert, ...trust, ...client, '--no-cache', '-v']),
      ]);
      const seen = { tls: fromTls(tls), smoke: fromSmoke(smoke), token: fromToken(token) };
      for (const [command, v] of Object.entries(seen)) {
        assert.equal(v.status, c.status, `${command}: status`);
        assert.equal(v.code, c.code, `${command}: code`);
        if (c.says) assert.match(v.text, c.says, `${command} names it`);
      }
      if (c.status === 'fail') {
        assert.equal(tls.code, 3, tls.stderr);
        assert.equal(token.code, 3, token.stderr);
      }
    });
  }
});

describe('refusals that carry no OAuth body: a bare HTTP 401/403 is the IdP refusing the client', () => {
  /** Requests a client certificate without enforcing it; every POST is refused with `status` and an empty body. */
  const refusing = (status: number) =>
    startHttpsServer({
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: false,
      handler: (req, res) => {
        res.statusCode = req.method === 'POST' ? status : 200;
        res.end();
      },
    });
  const args = (url: string, client: string, op = 'token') => [
    `--${op}-endpoint`,
    url,
    '--client-id',
    'kong',
    '--cert',
    pki.path(`${client}.crt`),
    '--key',
    pki.path(`${client}.key`),
    '--ca',
    pki.path('ca.crt'),
  ];

  it('token: exit 4 CLIENT_REFUSED, with the certificate-aware hint invalid_client gets (the acceptable CAs named)', async (t) => {
    const s = await refusing(401);
    t.after(() => s.close());
    const url = `${s.url}/token`;
    const human = await runCli(['token', ...args(url, 'client-other'), '--no-cache']);
    assert.equal(human.code, 4, human.stderr);
    assert.match(
      human.stderr,
      /error: token request failed: the IdP refused the client with HTTP 401 and an empty body/,
    );
    assert.match(human.stderr, /hint: .*not among the CAs it accepts \("CN=Test CA,O=mtls-oauth tests"\)/);
    assert.doesNotMatch(human.stderr, /proxy or gateway/);
    const doc = jsonOf(await runCli(['token', ...args(url, 'client-other'), '--no-cache', '--json']));
    assert.equal(doc.error?.code, 'CLIENT_REFUSED');
    assert.equal(doc.error?.details.status, 401);
  });

  it('a 403 with a certificate from an accepted CA: the hint is about the registration', async (t) => {
    const s = await refusing(403);
    t.after(() => s.close());
    const r = await runCli(['token', ...args(`${s.url}/token`, 'client'), '--no-cache', '--json']);
    assert.equal(r.code, 4, r.stderr);
    const doc = jsonOf(r);
    assert.equal(doc.error?.code, 'CLIENT_REFUSED');
    assert.match(doc.error?.hint ?? '', /tls_client_auth_subject_dn/);
  });

  it('introspection and revocation refuse the same way', async (t) => {
    const s = await refusing(401);
    t.after(() => s.close());
    for (const [command, op] of [
      ['introspect', 'introspection'],
      ['revoke', 'revocation'],
    ]) {
      const r = await runCli([
        command,
        'opaque-token-0123456789',
        ...args(`${s.url}/${op}`, 'client', op),
        '--json',
      ]);
      assert.equal(r.code, 4, `${command}: ${r.stdout}`);
      assert.equal(jsonOf(r).error?.code, 'CLIENT_REFUSED', command);
    }
  });

  it('smoke --expect-fail token=invalid_client accepts it', async (t) => {
    const s = await refusing(401);
    t.after(() => s.close());
    const r = await runCli([
      'smoke',
      '--steps',
      'token',
      ...args(`${s.url}/token`, 'client-other'),
      '--expect-fail',
      'token=invalid_client',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stdout);
    const token = jsonOf(r).result.steps.find((x: { name: string }) => x.name === 'token');
    assert.equal(token.status, 'pass');
    assert.equal(token.expected.met, true);
    assert.equal(token.error.code, 'CLIENT_REFUSED');
  });
});
