// The closed error vocabulary: every code the source can report is in ERROR_CODES with one kind,
// every entry is documented in docs/errors.md (linked from the README), and nothing else is.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { exitCodeForKind } from '../../src/cli/exit-codes.ts';
import { VERDICT_WARNINGS } from '../../src/core/diagnosis/verdict.ts';
import { ERROR_CODES, type ErrorKind, isErrorCode, oauthErrorCode } from '../../src/core/error-codes.ts';
import { MtlsOAuthError, usageError } from '../../src/core/errors.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const KINDS: ErrorKind[] = ['usage', 'network', 'oauth', 'timeout', 'check', 'interrupted', 'internal'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

interface Use {
  code: string;
  /** The kind written at the call, when it is a literal. */
  kind?: string;
  where: string;
}

/** Every code the source passes to MtlsOAuthError, usageError or checkFailure, or sets as the
 *  `code` of an error-like object literal (one with a `message`). */
function codesInSource(): { uses: Use[]; dynamic: string[] } {
  const uses: Use[] = [];
  const dynamic: string[] = [];
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const where = (n: ts.Node) =>
      `${file.slice(ROOT.length + 1)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
    // A code argument: a literal, or a conditional between literals; anything else but a plain
    // name or member (typed ErrorCode, so the compiler checks it) is reported.
    const collect = (arg: ts.Expression | undefined, kind: string | undefined, at: ts.Node) => {
      if (!arg) return;
      if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) {
        uses.push({ code: arg.text, kind, where: where(at) });
      } else if (ts.isConditionalExpression(arg)) {
        collect(arg.whenTrue, kind, at);
        collect(arg.whenFalse, kind, at);
      } else if (ts.isParenthesizedExpression(arg) || ts.isAsExpression(arg)) {
        collect(arg.expression, kind, at);
      } else if (!ts.isIdentifier(arg) && !ts.isPropertyAccessExpression(arg) && !ts.isCallExpression(arg)) {
        dynamic.push(`${where(at)}: ${arg.getText(sf)}`);
      }
    };
    const visit = (n: ts.Node) => {
      if ((ts.isNewExpression(n) || ts.isCallExpression(n)) && n.arguments) {
        const callee = n.expression.getText(sf);
        if (callee === 'MtlsOAuthError') {
          const k = n.arguments[0];
          collect(n.arguments[1], k && ts.isStringLiteral(k) ? k.text : undefined, n);
        } else if (callee === 'usageError') collect(n.arguments[0], 'usage', n);
        else if (callee === 'checkFailure') collect(n.arguments[0], 'check', n);
      }
      if (ts.isObjectLiteralExpression(n)) {
        const props = new Map(
          n.properties.filter(ts.isPropertyAssignment).map((p) => [p.name.getText(sf), p.initializer]),
        );
        const code = props.get('code');
        // Only literals: connection records carry OpenSSL and errno codes under the same names.
        if (code && props.has('message') && (ts.isStringLiteral(code) || ts.isConditionalExpression(code)))
          collect(code, undefined, n);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return { uses, dynamic };
}

describe('ERROR_CODES', () => {
  it('every entry has a kind and a one-line meaning', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^[A-Z][A-Z0-9_]*$/, code);
      assert.ok(KINDS.includes(info.kind), `${code}: kind ${info.kind}`);
      assert.ok(info.meaning.length > 5 && !info.meaning.includes('\n'), `${code}: meaning`);
    }
  });

  it('every code thrown in src is in the list, with the kind the list gives it', () => {
    const { uses, dynamic } = codesInSource();
    assert.ok(uses.length > 150, `found only ${uses.length} uses: the scan is broken`);
    // A TLS verdict's warnings (the handshake worked, mTLS will not) are the other closed list.
    const isWarning = (u: Use) =>
      u.where.startsWith('src/core/diagnosis/verdict.ts') && Object.hasOwn(VERDICT_WARNINGS, u.code);
    const unknown = uses
      .filter((u) => !isErrorCode(u.code) && !isWarning(u))
      .map((u) => `${u.where}: ${u.code}`);
    assert.deepEqual(unknown, [], 'codes missing from src/core/error-codes.ts');
    const wrongKind = uses
      .filter((u) => u.kind !== undefined && isErrorCode(u.code) && ERROR_CODES[u.code].kind !== u.kind)
      .map((u) => `${u.where}: ${u.code} as ${u.kind}`);
    assert.deepEqual(wrongKind, [], 'codes thrown with another kind than the list gives them');
    assert.deepEqual(dynamic, [], 'codes built at run time (use oauthErrorCode or a literal)');
  });

  it('a code is an error or a verdict warning, never both', () => {
    assert.deepEqual(Object.keys(VERDICT_WARNINGS).filter(isErrorCode), []);
  });

  it('the compiler rejects an unlisted code and a kind the list does not give', () => {
    // These lines are checked by `npm run typecheck` (tsc includes test/).
    // @ts-expect-error: not a code
    const unlisted = () => usageError('NOT_A_CODE', 'x');
    // @ts-expect-error: KEY_PASSPHRASE is a usage error, never a network one
    const otherKind = () => new MtlsOAuthError('network', 'KEY_PASSPHRASE', 'x');
    assert.equal(typeof unlisted, 'function');
    assert.equal(typeof otherKind, 'function');
  });

  it('the kind of an error comes from the list', () => {
    const e = new MtlsOAuthError('timeout', 'TIMEOUT', 'slow');
    assert.equal(e.kind, 'timeout');
    assert.equal(usageError('KEY_PASSPHRASE', 'wrong').kind, 'usage');
  });

  it('OAuth error values: registered ones by name, any other as OAUTH_OTHER', () => {
    assert.equal(oauthErrorCode('invalid_client'), 'OAUTH_INVALID_CLIENT');
    assert.equal(oauthErrorCode('unsupported_token_type'), 'OAUTH_UNSUPPORTED_TOKEN_TYPE');
    assert.equal(oauthErrorCode('use_dpop_nonce'), 'OAUTH_USE_DPOP_NONCE');
    for (const v of ['vendor_specific', 'Invalid-Client', 'other', '__proto__', 'timeout', '']) {
      assert.equal(oauthErrorCode(v), 'OAUTH_OTHER', v);
    }
  });
});

describe('docs/errors.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \| (.*) \|$/gm)].map((m) => ({ code: m[1], rest: m[2] }));

  it('has one row per code: exit code, kind and meaning as in the list', () => {
    const expected = Object.entries(ERROR_CODES).map(
      ([code, i]) => `| \`${code}\` | ${exitCodeForKind(i.kind)} | ${i.kind} | ${i.meaning} |`,
    );
    const missing = expected.filter((row) => !doc.includes(`\n${row}\n`));
    assert.deepEqual(missing, [], 'rows to add to (or correct in) docs/errors.md');
    const extra = rows
      .filter((r) => !isErrorCode(r.code) && !Object.hasOwn(VERDICT_WARNINGS, r.code))
      .map((r) => r.code);
    assert.deepEqual(extra, [], 'rows in docs/errors.md for codes that are not in the list');
    const warnings = Object.entries(VERDICT_WARNINGS).map(
      ([code, meaning]) => `| \`${code}\` | ${meaning} |`,
    );
    assert.deepEqual(
      warnings.filter((row) => !doc.includes(`\n${row}\n`)),
      [],
      'verdict warnings to add to docs/errors.md',
    );
    assert.equal(rows.length, expected.length + warnings.length, 'a code listed twice in docs/errors.md');
  });

  it('is linked from the README, whose troubleshooting table names only listed codes', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, /\]\(docs\/errors\.md\)/);
    const section = readme.slice(
      readme.indexOf('## Troubleshooting'),
      readme.indexOf('\n## ', readme.indexOf('## Troubleshooting') + 5),
    );
    const named = [...section.matchAll(/\(`([A-Z][A-Z0-9_]{3,})`/g)].map((m) => m[1]);
    assert.ok(named.length > 10, 'the troubleshooting table names codes');
    const unknown = [...new Set(named)].filter((c) => !isErrorCode(c) && !/^MTLS_OAUTH_|_PROXY$/.test(c));
    assert.deepEqual(unknown, [], 'README names codes that do not exist');
  });
});

describe('exit codes', () => {
  it('are set only through src/cli/exit-codes.ts (EXIT, exitCodeForKind), never as numbers', () => {
    const literal =
      /process\.exit\(\s*\d|exitCode\s*(=|:|\?\?)\s*\d|exitCode \?\? \d|exitCode\s*[:=][^;]*\?\s*\d+\s*:\s*\d/;
    const found = sourceFiles(join(ROOT, 'src'))
      .filter((f) => !f.endsWith(join('cli', 'exit-codes.ts')))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, where: `${f.slice(ROOT.length + 1)}:${i + 1}` }))
          .filter(({ line }) => literal.test(line) && !line.trim().startsWith('//')),
      )
      .map(({ line, where }) => `${where}: ${line.trim()}`);
    assert.deepEqual(found, []);
  });

  it('each kind has its documented exit code', () => {
    assert.deepEqual(
      KINDS.map((k) => [k, exitCodeForKind(k)]),
      [
        ['usage', 2],
        ['network', 3],
        ['oauth', 4],
        ['timeout', 5],
        ['check', 1],
        ['interrupted', 130],
        ['internal', 1],
      ],
    );
  });
});
