// Fitting output to a narrow terminal (src/cli/wrap.ts): words are never cut unless wider than the
// line, two-column rows keep a hanging indent or become a list, example commands stay whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayWidth, fitLine, fitText, outputWidth, wrapWords } from '../../src/cli/wrap.ts';

describe('wrapWords', () => {
  it('breaks at spaces only, each line within the width', () => {
    const lines = wrapWords('the access token is bound to our certificate (cnf.x5t#S256)', 16);
    assert.deepEqual(lines, ['the access token', 'is bound to our', 'certificate', '(cnf.x5t#S256)']);
  });
  it('cuts only a word wider than the line', () => {
    assert.deepEqual(wrapWords('x5t sha256:0123456789abcdef0123 ok', 10), [
      'x5t',
      'sha256:012',
      '3456789abc',
      'def0123 ok',
    ]);
  });
  it('does not count colour sequences', () => {
    assert.equal(displayWidth('\x1b[32m✓ pass\x1b[39m'), 6);
    assert.deepEqual(wrapWords('\x1b[32mgreen\x1b[39m words here', 11), [
      '\x1b[32mgreen\x1b[39m words',
      'here',
    ]);
  });
});

describe('fitLine', () => {
  it('leaves a line that fits alone', () => {
    assert.deepEqual(fitLine('  --issuer <URL>  issuer URL', 40), ['  --issuer <URL>  issuer URL']);
  });
  it('continues a wide enough second column under itself', () => {
    const lines = fitLine('  --junit <FILE>  also write a JUnit XML report (one testcase per step)', 50);
    assert.deepEqual(lines, [
      '  --junit <FILE>  also write a JUnit XML report',
      '                  (one testcase per step)',
    ]);
  });
  it('turns a row whose second column would be too thin into a list', () => {
    const lines = fitLine(
      `  --expect-fail <STEP[=ERROR]>${' '.repeat(14)}the step must fail for the run to pass`,
      40,
    );
    assert.deepEqual(lines, [
      '  --expect-fail <STEP[=ERROR]>',
      '      the step must fail for the run to',
      '      pass',
    ]);
    for (const l of lines) assert.ok(l.length <= 40);
  });
});

describe('fitText', () => {
  it('reflows prose that does not fit, and keeps prose that does', () => {
    const prose = 'Exit codes: 0 passed,\n1 a step failed, 2 usage, 3 the IdP could not be reached.';
    assert.equal(fitText(prose, 100), prose);
    assert.equal(
      fitText(prose, 30),
      'Exit codes: 0 passed, 1 a step\nfailed, 2 usage, 3 the IdP\ncould not be reached.',
    );
  });
  it('leaves example commands and their continuations whole (copyable)', () => {
    const text =
      'Examples:\n  $ mtls-oauth smoke --issuer https://idp.example.com --client-id kong \\\n      --cert certs/client.crt --key certs/client.key\n  $ mtls-oauth smoke --profile staging';
    assert.equal(fitText(text, 30), text);
  });
  it('changes nothing without a width (a pipe, no COLUMNS)', () => {
    const long = `  --flag  ${'word '.repeat(40)}`;
    assert.equal(fitText(long, undefined), long);
  });
});

describe('outputWidth', () => {
  it("is the terminal's width, else COLUMNS, else none", () => {
    assert.equal(outputWidth({ isTTY: true, columns: 57 }, { COLUMNS: '100' }), 57);
    assert.equal(outputWidth({}, { COLUMNS: '40' }), 40);
    assert.equal(outputWidth({}, { COLUMNS: 'wide' }), undefined);
    assert.equal(outputWidth({}, {}), undefined);
  });
});
