// Nothing hangs: `discover`, `token` and `tls` (the built CLI, --timeout 1) against servers that
// accept and never answer, stall, drip or break off. Each run ends with exit 5 and a message that
// names the step, how far it got and the URL, or exit 3 for a connection that broke, or exit 0 where
// the command had all it needed (`tls` reads only the status line and headers). The runs are bounded
// by runCli's own kill timer; no assertion depends on how long anything took.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BadKind, type BadServer, startBadServer } from '../helpers/bad-servers.ts';
import { assertCleanFailure, assertNoStack, jsonOf, runCli } from '../helpers/cli.ts';
import { type FaultPki, faultPki, re } from './fixtures.ts';

type Command = 'discover' | 'token' | 'tls';
const STEP: Record<Command, string> = { discover: 'discovery', token: 'token request', tls: 'TLS probe' };
const PATH: Record<Command, string> = {
  discover: '/.well-known/openid-configuration',
  token: '/token',
  tls: '/token',
};

type Expect =
  | { exit: 5; phase: 'tls' | 'headers' | 'body' }
  | { exit: 3; code: string; message: RegExp }
  | { exit: 0 };

const incomplete: Expect = {
  exit: 3,
  code: 'RESPONSE_INCOMPLETE',
  message:
    /closed the connection in the middle of the response \(HTTP 200; \d+ bytes of the body received of 10000 announced\)/,
};

const CASES: Array<[BadKind, Record<Command, Expect>]> = [
  [
    'silent',
    { discover: { exit: 5, phase: 'tls' }, token: { exit: 5, phase: 'tls' }, tls: { exit: 5, phase: 'tls' } },
  ],
  [
    'no-response',
    {
      discover: { exit: 5, phase: 'headers' },
      token: { exit: 5, phase: 'headers' },
      tls: { exit: 5, phase: 'headers' },
    },
  ],
  [
    'stall-body',
    { discover: { exit: 5, phase: 'body' }, token: { exit: 5, phase: 'body' }, tls: { exit: 0 } },
  ],
  [
    'drip-headers',
    {
      discover: { exit: 5, phase: 'headers' },
      token: { exit: 5, phase: 'headers' },
      tls: { exit: 5, phase: 'headers' },
    },
  ],
  [
    'drip-body',
    { discover: { exit: 5, phase: 'body' }, token: { exit: 5, phase: 'body' }, tls: { exit: 0 } },
  ],
  ['close-mid-body', { discover: incomplete, token: incomplete, tls: { exit: 0 } }],
];

function expectedTimeout(command: Command, base: string, phase: 'tls' | 'headers' | 'body'): RegExp {
  const step = STEP[command];
  const url = `${base}${PATH[command]}`;
  const where = {
    tls: `in the TLS handshake with ${base}`,
    headers: `waiting for the response headers from ${url}`,
    body: `reading the response body from ${url}`,
  }[phase];
  return new RegExp(`^error: ${re(`${step} timed out after 1 s ${where}`)}$`, 'm');
}

describe('timeouts: every bad server, every command, --timeout 1', { concurrency: 4 }, () => {
  let pki: FaultPki;
  const servers = new Map<BadKind, BadServer>();

  before(async () => {
    pki = await faultPki();
    for (const [kind] of CASES) {
      servers.set(kind, await startBadServer(kind, { cert: pki.server.cert, key: pki.server.key }));
    }
  });
  after(async () => {
    await Promise.all([...servers.values()].map((s) => s.close()));
    pki.remove();
  });

  for (const [kind, byCommand] of CASES) {
    for (const command of ['discover', 'token', 'tls'] as Command[]) {
      const x = byCommand[command];
      const what = x.exit === 5 ? `exit 5, ${x.phase}` : x.exit === 3 ? `exit 3, ${x.code}` : 'exit 0';
      test(`${kind}: ${command} (${what})`, async () => {
        const s = servers.get(kind)!;
        const r = await runCli([...pki.args(command, s.url), '--timeout', '1'], {
          env: pki.env(),
          timeoutMs: 20_000,
        });
        assert.equal(r.signal, null, 'ended by itself, not killed');
        if (x.exit === 0) {
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /HTTP: status 200/);
          return;
        }
        if (x.exit === 5) {
          assertCleanFailure(r, 5, expectedTimeout(command, s.url, x.phase));
          assert.match(r.stderr, /^hint: /m);
          return;
        }
        assertCleanFailure(r, 3, x.message);
        const j = await runCli([...pki.args(command, s.url), '--timeout', '1', '--json'], {
          env: pki.env(),
          timeoutMs: 20_000,
        });
        assert.equal(j.code, 3);
        assert.equal(jsonOf(j).error?.code, x.code);
      });
    }
  }

  test('--json: code TIMEOUT, kind of step and phase in the details, exit 5', async () => {
    const s = servers.get('stall-body')!;
    const r = await runCli([...pki.args('token', s.url), '--timeout', '1', '--json'], {
      env: pki.env(),
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 5, r.stderr);
    const doc = jsonOf(r);
    assert.equal(doc.ok, false);
    assert.equal(doc.error?.code, 'TIMEOUT');
    assert.equal(doc.error?.details.phase, 'body');
    assert.equal(doc.error?.details.timeoutMs, 1000);
    assert.equal(doc.error?.details.step, 'token request');
    assert.equal(doc.tls.protocol, 'TLSv1.3', 'the handshake itself went fine');
  });

  test('MTLS_OAUTH_TIMEOUT works like --timeout', async () => {
    const s = servers.get('no-response')!;
    const r = await runCli(pki.args('discover', s.url), {
      env: pki.env({ MTLS_OAUTH_TIMEOUT: '1' }),
      timeoutMs: 20_000,
    });
    assertCleanFailure(r, 5, expectedTimeout('discover', s.url, 'headers'));
  });

  test('a host name that never resolves: exit 5, "connecting to"', async () => {
    // A resolver that never answers for *.invalid, preloaded into the CLI: no query leaves the machine.
    const preload = join(pki.dir, 'dns-hang.mjs');
    writeFileSync(
      preload,
      `import dns from 'node:dns';
const orig = dns.lookup;
dns.lookup = function (host, opts, cb) {
  if (String(host).endsWith('.invalid')) return {};
  return orig.apply(this, arguments);
};
`,
    );
    const r = await runCli([...pki.args('token', 'https://idp.hang.invalid'), '--timeout', '1'], {
      env: pki.env({ NODE_OPTIONS: `--import=${preload}` }),
      timeoutMs: 20_000,
    });
    assertCleanFailure(
      r,
      5,
      /^error: token request timed out after 1 s connecting to https:\/\/idp\.hang\.invalid$/m,
    );
    assert.match(r.stderr, /hint: the TCP connection did not complete/);
  });

  test('a proxy that accepts and never answers CONNECT: exit 5, "waiting for the proxy"', async () => {
    const proxy = servers.get('silent')!; // a TCP server that never says a word
    const target = servers.get('no-response')!;
    const r = await runCli([...pki.args('token', target.url), '--timeout', '1'], {
      env: pki.env({ HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` }),
      timeoutMs: 20_000,
    });
    assertCleanFailure(
      r,
      5,
      new RegExp(
        `^error: token request timed out after 1 s waiting for the proxy http://127\\.0\\.0\\.1:${proxy.port} to open a tunnel \\(CONNECT\\) to ${re(target.url)}$`,
        'm',
      ),
    );
    assert.match(r.stderr, /NO_PROXY=127\.0\.0\.1/);
    assertNoStack(r);
  });
});

test('the default time limit is 30 s per request', async () => {
  const { HttpClient } = await import('../../src/core/transport/http-client.ts');
  const c = new HttpClient({ proxy: false });
  assert.equal((c as unknown as { timeoutMs: number }).timeoutMs, 30_000);
  await c.close();
});
