// src/core/safe-text.ts: network text made printable; the terminal net lets only the CLI's own
// colours through; JUnit text stays XML 1.0.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Chalk } from 'chalk';
import { printable, terminalSafe, xmlSafe } from '../../src/core/safe-text.ts';

describe('printable', () => {
  it('escapes C0, DEL, C1 and the characters that reorder or hide text', () => {
    assert.equal(printable('a\u001b]52;c;x\u0007b'), 'a\\x1b]52;c;x\\x07b');
    assert.equal(printable('\u007f\u0085\u009b'), '\\x7f\\x85\\x9b');
    assert.equal(
      printable('x\u202ey\u2066z\u200bw\u061c\ufeff\u2028'),
      'x\\u202ey\\u2066z\\u200bw\\u061c\\ufeff\\u2028',
    );
  });
  it('keeps newline and tab unless one line is asked for; leaves ordinary text alone', () => {
    assert.equal(printable('a\nb\tc'), 'a\nb\tc');
    assert.equal(printable('a\nb\tc\r', { oneLine: true }), 'a\\x0ab\\x09c\\x0d');
    assert.equal(printable('Zoë 🙂 日本 <&>'), 'Zoë 🙂 日本 <&>');
  });
});

describe('terminalSafe', () => {
  const c = new Chalk({ level: 1 });
  it("keeps the CLI's own colours", () => {
    for (const s of [c.green('✓ pass'), c.red.bold('error:'), c.dim('hint'), c.yellow('warn'), c.gray('x')]) {
      assert.equal(terminalSafe(s), s);
    }
  });
  it('escapes every other sequence, a colour code that hides text included', () => {
    assert.equal(terminalSafe('\u001b[8mhidden'), '\\x1b[8mhidden');
    assert.equal(terminalSafe('\u001b[30;40mblack'), '\\x1b[30;40mblack');
    assert.equal(terminalSafe('\u001b[2K\r✓ bound'), '\\x1b[2K\\x0d✓ bound');
    assert.equal(terminalSafe('\u009b2K'), '\\x9b2K');
    assert.equal(terminalSafe('a\tb\nc'), 'a\tb\nc');
  });
});

describe('xmlSafe', () => {
  it('leaves nothing XML 1.0 forbids, and shows what it changed', () => {
    const out = xmlSafe('a\u0000b\u001bc\ud800d\uffffe');
    assert.equal(out, 'a\\x00b\\x1bc\\ud800d\\uffffe');
    assert.doesNotMatch(out, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/);
    assert.equal(xmlSafe('emoji 🙂 kept'), 'emoji 🙂 kept');
  });
});
