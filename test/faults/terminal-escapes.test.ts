// Terminal escape injection (docs/security.md "A hostile or broken IdP"): a hostile IdP puts escape
// sequences in what the CLI shows (an OAuth error_description, a non-JSON error body, the issuer
// and other members of its discovery document). The payload is the one that, raw, wrote the
// clipboard (OSC 52), retitled the window (OSC 0), erased the error line (CSI 2K, carriage return,
// the C1 CSI) and reversed the rest of the line (U+202E) to print a fake "✓ token bound". Through
// the built CLI, in human output, with -v, and in smoke's JUnit report: no such character reaches
// stdout, stderr or the file raw, and the escaped form shows that something odd was sent.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoStack, type CliResult, runCli } from '../helpers/cli.ts';
import { type Running, startHttpsServer } from '../helpers/tls-servers.ts';
import { type FaultPki, faultPki } from './fixtures.ts';

const PAYLOAD =
  'ok\u001b]52;c;cHduZWQ=\u0007\u001b]0;owned\u0007\u001b[2K\r\u009b2K\u202e\u2066✓ token bound';
/** What the payload looks like once escaped (the parts that prove each character was caught). */
const SHOWN = [
  '\\x1b]52;c;cHduZWQ=\\x07',
  '\\x1b]0;owned\\x07',
  '\\x1b[2K\\x0d\\x9b2K',
  '\\u202e\\u2066✓ token bound',
];
/** Every character that must never be written raw. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function assertEscaped(r: CliResult, where: string): void {
  for (const [name, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    const raw = RAW.exec(text);
    assert.equal(
      raw,
      null,
      `${where}: ${name} has a raw U+${raw?.[0].charCodeAt(0).toString(16)}: ${JSON.stringify(text)}`,
    );
  }
  const both = r.stdout + r.stderr;
  assert.ok(
    SHOWN.some((s) => both.includes(s)),
    `${where}: the escaped payload is not shown: ${JSON.stringify(both)}`,
  );
  assertNoStack(r);
}

describe('a hostile IdP cannot drive the terminal', () => {
  let pki: FaultPki;
  let server: Running;
  let base: string;

  before(async () => {
    pki = await faultPki();
    server = await startHttpsServer({
      cert: pki.server.cert,
      key: pki.server.key,
      handler: (req, res) => {
        const path = (req.url ?? '').split('?')[0];
        if (path.startsWith('/.well-known/')) {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              issuer: `${base}/${PAYLOAD}`,
              token_endpoint: `${base}/token`,
              jwks_uri: `${base}/jwks`,
              response_types_supported: ['code'],
              service_documentation: PAYLOAD,
            }),
          );
        } else if (path === '/token') {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'invalid_client', error_description: PAYLOAD }));
        } else if (path === '/token-text') {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`upstream failed: ${PAYLOAD}`);
        } else {
          res.writeHead(404).end();
        }
      },
    });
    base = server.url;
  });
  after(async () => {
    await server?.close();
    pki?.remove();
  });

  const run = (args: string[]) => runCli(args, { env: pki.env(), cwd: pki.dir });

  for (const verbose of [false, true]) {
    const v = verbose ? ['-v'] : [];
    const label = verbose ? ' (-v)' : '';

    test(`an error_description with escapes${label}: exit 4, shown escaped`, async () => {
      const r = await run([...pki.args('token', base), ...v]);
      assert.equal(r.code, 4, r.stderr);
      assertEscaped(r, `token${label}`);
    });

    test(`a non-JSON error body with escapes${label}: shown escaped`, async () => {
      const args = pki.args('token', base).map((a) => (a === `${base}/token` ? `${base}/token-text` : a));
      const r = await run([...args, ...v]);
      assert.notEqual(r.code, 0);
      assertEscaped(r, `token-text${label}`);
    });

    test(`a discovery issuer and metadata with escapes${label}: shown escaped`, async () => {
      const r = await run([...pki.args('discover', base), ...v]);
      assert.notEqual(r.code, 0);
      assertEscaped(r, `discover${label}`);
    });
  }

  test('smoke --junit: the report is valid XML (python3 parses it), with the payload escaped', async () => {
    const junit = join(pki.dir, 'hostile.xml');
    // token's arguments, for smoke's token step alone.
    const r = await run(['smoke', ...pki.args('token', base).slice(1), '--steps', 'token', '--junit', junit]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assertEscaped(r, 'smoke');
    const xml = readFileSync(junit, 'utf8');
    assert.equal(RAW.exec(xml), null, `raw control character in the JUnit file: ${JSON.stringify(xml)}`);
    // An independent XML parser as the referee: it refuses what XML 1.0 forbids.
    const failure = execFileSync(
      'python3',
      [
        '-c',
        "import sys, xml.etree.ElementTree as ET; f = ET.parse(sys.argv[1]).getroot().find('.//failure'); print(f.get('message'))",
        junit,
      ],
      { encoding: 'utf8' },
    );
    assert.ok(
      SHOWN.some((s) => failure.includes(s)),
      failure,
    );
  });
});
