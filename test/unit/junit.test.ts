import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { junitXml } from '../../src/cli/junit.ts';

const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-junit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('JUnit XML', () => {
  const xml = junitXml('smoke https://idp.example', [
    { name: 'discovery', status: 'pass', timeMs: 12 },
    { name: 'token', status: 'fail', timeMs: 30, detail: 'invalid_client <"&\'>', hint: 'check the DN' },
    { name: 'revocation', status: 'skip', detail: 'not advertised' },
    { name: 'binding', status: 'warn', detail: 'opaque token\u0001' },
  ]);

  it('has one testcase per step with failure and skipped elements', () => {
    assert.equal(xml.match(/<testcase /g)?.length, 4);
    assert.match(xml, /<testsuite [^>]*tests="4" failures="1" errors="0" skipped="1"/);
    assert.match(xml, /<failure message="invalid_client &lt;&quot;&amp;&apos;&gt;">/);
    assert.match(xml, /hint: check the DN<\/failure>/);
    assert.match(xml, /<skipped message="not advertised"\/>/);
    assert.doesNotMatch(xml, /\u0001/);
  });

  it('is well-formed XML (python3 is the referee)', () => {
    const file = join(dir, 'junit.xml');
    writeFileSync(file, xml);
    const names = execFileSync(
      'python3',
      [
        '-c',
        'import sys,xml.etree.ElementTree as E; print(",".join(t.get("name") for t in E.parse(sys.argv[1]).iter("testcase")))',
        file,
      ],
      { encoding: 'utf8' },
    ).trim();
    assert.equal(names, 'discovery,token,revocation,binding');
  });
});
