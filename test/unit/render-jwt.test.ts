// renderJwt: a JWT decoded for display. Claims from the network cannot drive the terminal, and
// neither the signature nor the token is printed.
import assert from 'node:assert/strict';

import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { decodeForDisplay, renderJwt } from '../../src/cli/render-token.ts';
import { Ui } from '../../src/cli/ui.ts';
import { newKeyPairSync } from '../../src/core/pki/keys.ts';
import { printable } from '../../src/core/safe-text.ts';

function capture(): { ui: Ui; text: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.setEncoding('utf8').on('data', (d: string) => {
    text += d;
  });
  return { ui: new Ui({}, { stdout, stderr }), text: () => text };
}

const { privateKey } = newKeyPairSync('ec', { namedCurve: 'P-256' });

describe('renderJwt', () => {
  it('escapes control characters and bidi overrides in claims and claim names; no signature', async () => {
    const jwt = await new SignJWT({
      name: 'Mallory\u001b[2J\u001b]0;pwned\u0007',
      'evil\nname': 'x',
      note: 'abc\u202edcba',
      cnf: { 'x5t#S256': 'q\u001bq' },
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k\r1' })
      .setExpirationTime(2_000_000_000)
      .sign(privateKey);
    const { ui, text } = capture();
    renderJwt(ui, 'access token', jwt, 1_900_000_000);
    const out = text();
    assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/.test(out), JSON.stringify(out));
    assert.match(out, /name +Mallory\\x1b\[2J\\x1b\]0;pwned\\x07\n/);
    assert.match(out, /evil\\x0aname +x\n/);
    assert.match(out, /note +abc\\u202edcba\n/);
    assert.match(out, /header +alg ES256, kid k\\x0d1\n/);
    assert.match(out, /cnf +x5t#S256 q\\x1bq\n/);
    assert.match(out, /exp +2033-05-18T03:33:20Z \(in 1157d 9h\)\n/);
    assert.ok(!out.includes(jwt.split('.')[2]!), 'signature printed');
  });

  it('prints nothing for an opaque or malformed token', () => {
    for (const token of [undefined, 'opaque-token-value-1234', 'a.b.c', 'eyJ.eyJ.x']) {
      const { ui, text } = capture();
      renderJwt(ui, 'access token', token);
      assert.equal(text(), '');
      assert.equal(decodeForDisplay(token), undefined);
    }
  });

  it('printable leaves ordinary text, accents and emoji alone', () => {
    assert.equal(printable('Zoë 🙂 <a@b.c> tab\there'), 'Zoë 🙂 <a@b.c> tab\there');
    assert.equal(printable('tab\there', { oneLine: true }), 'tab\\x09here');
  });
});
