// Nothing leaks: every command, in human and -v modes, against the test IdP, with an encrypted
// client key (MTLS_OAUTH_KEY_PASSPHRASE), a PKCS#12 password (MTLS_OAUTH_P12_PASSWORD) and the
// `secret` client's secret (MTLS_OAUTH_CLIENT_SECRET). Every secret that exists during the runs is
// collected: the tokens and authorization codes the IdP issued and the PKCE verifiers it received
// (a middleware in front of its routes), the client secret, the passphrase and the password. Then
// stdout, stderr and every file the runs wrote (except the token cache and key files, which exist to
// hold secrets) are searched for each of them, whole and as a 16-character piece from its middle:
// none may appear. --show-secrets is the control: with it, they do.

import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BadServer, startBadServer } from '../helpers/bad-servers.ts';
import { assertNoStack, type CliResult, cleanEnv, jsonOf, runCli } from '../helpers/cli.ts';
import { startIdp, type TestIdp, writePkiFiles } from '../helpers/idp.ts';
import { cachedEntry } from '../helpers/idp-fixture.ts';
import { completeLogin, watchForAuthorizationUrl } from '../helpers/user-agent.ts';
import { type FaultPki, faultPki } from './fixtures.ts';

interface Run {
  name: string;
  result: CliResult;
  showSecrets: boolean;
}

describe('secrets never appear in output or written files unless --show-secrets', () => {
  let idp: TestIdp;
  let root: string;
  let work: string;
  let home: string;
  let cacheDir: string;
  /** name → value of every secret seen during the runs */
  const secrets = new Map<string, string>();
  const runs: Run[] = [];
  const passphrase = `pp-${randomBytes(18).toString('base64url')}`;
  const p12Password = `p12-${randomBytes(18).toString('base64url')}`;
  let clientSecret: string;
  let encKey: string;
  let cert: string;
  let ca: string;

  const remember = (kind: string, value: unknown) => {
    if (typeof value === 'string' && value.length >= 8) secrets.set(`${kind} ${value.slice(0, 8)}`, value);
  };

  before(async () => {
    // Every token the IdP hands out, every code it redirects with, every verifier it receives.
    const capture = async (ctx: any, next: () => Promise<void>) => {
      await next();
      const body = ctx.body;
      if (body && typeof body === 'object' && !Buffer.isBuffer(body)) {
        for (const k of ['access_token', 'refresh_token', 'id_token']) remember(k, body[k]);
      }
      const location = ctx.response?.get?.('location');
      if (location) {
        try {
          remember('code', new URL(location, idp.issuer).searchParams.get('code'));
        } catch {}
      }
      const params = ctx.oidc?.params;
      if (params) {
        remember('code_verifier', params.code_verifier);
        remember('code', params.code);
      }
    };
    idp = await startIdp({ aliases: true, middleware: [capture] });
    clientSecret = idp.clients.secret.client_secret;
    remember('client_secret', clientSecret);
    remember('passphrase', passphrase);
    remember('p12_password', p12Password);
    // client_secret_basic: the Authorization header carries base64(id:secret): a secret too.
    remember(
      'basic_credentials',
      Buffer.from(`secret:${encodeURIComponent(clientSecret)}`).toString('base64'),
    );

    root = mkdtempSync(join(tmpdir(), 'mtls-oauth-secrets-'));
    work = join(root, 'work');
    home = join(root, 'home');
    cacheDir = join(home, '.config', 'mtls-oauth');
    mkdirSync(work);
    mkdirSync(home);
    const pki = writePkiFiles(idp.pki, join(root, 'pki'));
    cert = pki.clientCert;
    ca = pki.ca;
    encKey = join(root, 'pki', 'client-enc.key');
    writeFileSync(
      encKey,
      createPrivateKey(idp.pki.client.key).export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase,
      }),
      { mode: 0o600 },
    );
  });
  after(async () => {
    await idp.close();
    rmSync(root, { recursive: true, force: true });
  });

  const env = (extra: NodeJS.ProcessEnv = {}) =>
    cleanEnv({
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      MTLS_OAUTH_KEY_PASSPHRASE: passphrase,
      MTLS_OAUTH_P12_PASSWORD: p12Password,
      ...extra,
    });
  const kong = () => [
    '--issuer',
    idp.issuer,
    '--client-id',
    'kong',
    '--cert',
    cert,
    '--key',
    encKey,
    '--ca',
    ca,
  ];
  const secretClient = () => ['--issuer', idp.issuer, '--client-id', 'secret', '--ca', ca];

  /** Reads every token in the cache into `secrets` (refresh tokens rotate: read after each run). */
  const harvestCache = () => {
    try {
      const doc = JSON.parse(readFileSync(join(cacheDir, 'tokens.json'), 'utf8'));
      for (const e of Object.values(doc.entries ?? {}) as Array<Record<string, unknown>>) {
        for (const k of ['access_token', 'refresh_token', 'id_token']) remember(k, e[k]);
      }
    } catch {}
  };

  async function run(
    name: string,
    args: string[],
    o: { env?: NodeJS.ProcessEnv; input?: string; expect?: number[] } = {},
  ) {
    const result = await runCli(args, { env: o.env ?? env(), cwd: work, input: o.input });
    assertNoStack(result);
    assert.ok(
      (o.expect ?? [0]).includes(result.code ?? -1),
      `${name}: exit ${result.code}\n${result.stderr}`,
    );
    runs.push({ name, result, showSecrets: args.includes('--show-secrets') });
    harvestCache();
    return result;
  }

  async function login(name: string, extra: string[]) {
    const watcher = watchForAuthorizationUrl();
    const done = runCli(
      [
        'login',
        '--no-browser',
        ...kong(),
        '--scope',
        'openid offline_access',
        '--prompt',
        'consent',
        ...extra,
      ],
      {
        env: env(),
        cwd: work,
        timeoutMs: 60_000,
        onStderr: (chunk) => watcher.feed(chunk),
      },
    );
    done.then((r) => watcher.fail(new Error(`login ended (exit ${r.code}) without a URL:\n${r.stderr}`)));
    const { response } = await completeLogin(idp, await watcher.url);
    assert.equal(response.status, 200);
    const result = await done;
    assertNoStack(result);
    assert.equal(result.code, 0, `${name}: ${result.stderr}`);
    runs.push({ name, result, showSecrets: extra.includes('--show-secrets') });
    harvestCache();
  }

  test('every command, human and -v', async () => {
    for (const mode of [[], ['-v']]) {
      const m = mode.length ? ' -v' : '';
      const out = `certs${mode.length ? '-v' : ''}`;
      await run(`certs init${m}`, ['certs', 'init', '--out', out, '--p12', ...mode]);
      await run(`certs inspect p12${m}`, ['certs', 'inspect', join(out, 'client.p12'), ...mode]);
      await run(
        `certs inspect key${m}`,
        ['certs', 'inspect', cert, '--key', encKey, '--password-env', 'MTLS_OAUTH_KEY_PASSPHRASE', ...mode],
        { expect: [0, 1, 2] },
      );
      await run(`config show${m}`, ['config', 'show', ...kong(), ...mode], {
        env: env({ MTLS_OAUTH_CLIENT_SECRET: clientSecret }),
      });
      await run(`discover${m}`, ['discover', idp.issuer, '--ca', ca, ...mode]);
      await run(`tls${m}`, [
        'tls',
        idp.aliases!.token_endpoint,
        '--cert',
        cert,
        '--key',
        encKey,
        '--ca',
        ca,
        ...mode,
      ]);
      await run(`tls --p12${m}`, [
        'tls',
        idp.aliases!.token_endpoint,
        '--p12',
        join(out, 'client.p12'),
        '--ca',
        ca,
        ...mode,
      ]);
      await run(`token kong${m}`, ['token', ...kong(), ...mode]);
      await run(`introspect${m}`, ['introspect', ...kong(), ...mode]);
      await run(`introspect stdin${m}`, ['introspect', '-', ...kong(), ...mode], {
        input: cachedEntry(cacheDir, idp).access_token,
      });
      await run(`token secret client${m}`, ['token', ...secretClient(), ...mode], {
        env: env({ MTLS_OAUTH_CLIENT_SECRET: clientSecret }),
      });
      await run(
        `token secret client, client_secret_post (the secret in the form)${m}`,
        ['token', ...secretClient(), '--auth', 'client_secret_post', ...mode],
        {
          env: env({ MTLS_OAUTH_CLIENT_SECRET: clientSecret }),
          expect: [0],
        },
      );
      await run(`token secret client, wrong secret${m}`, ['token', ...secretClient(), ...mode], {
        env: env({ MTLS_OAUTH_CLIENT_SECRET: `${clientSecret}x` }),
        expect: [4],
      });
      await login(`login${m}`, mode);
      await run(`token refresh${m}`, ['token', '--grant', 'refresh_token', ...kong(), ...mode]);
      await run(`introspect refresh${m}`, ['introspect', '--from-cache', 'refresh', ...kong(), ...mode]);
      await run(`revoke${m}`, ['revoke', ...kong(), ...mode]);
      await run(`revoke refresh${m}`, ['revoke', '--from-cache', 'refresh', ...kong(), '--verify', ...mode]);
      await run(`smoke${m}`, ['smoke', ...kong(), '--junit', `smoke${mode.length ? '-v' : ''}.xml`, ...mode]);
      await run(`smoke, unregistered client${m}`, ['smoke', ...kong(), '--client-id', 'nobody', ...mode], {
        expect: [1],
      });
    }
    const kinds = new Set([...secrets.keys()].map((k) => k.split(' ')[0]));
    for (const k of [
      'access_token',
      'refresh_token',
      'id_token',
      'code',
      'code_verifier',
      'client_secret',
      'passphrase',
      'p12_password',
    ]) {
      assert.ok(kinds.has(k), `the test knows at least one ${k}`);
    }
  });

  test('no secret in stdout or stderr of any run', () => {
    const leaks: string[] = [];
    for (const r of runs.filter((x) => !x.showSecrets)) {
      for (const [name, value] of secrets) {
        for (const [stream, text] of [
          ['stdout', r.result.stdout],
          ['stderr', r.result.stderr],
        ] as const) {
          if (text.includes(value)) leaks.push(`${r.name}: ${stream} holds ${name}… in full`);
          else if (value.length >= 24 && text.includes(value.slice(8, 24)))
            leaks.push(`${r.name}: ${stream} holds a piece of ${name}…`);
        }
      }
    }
    assert.deepEqual(leaks, []);
    // The shortened forms are there: the output did carry tokens, only not usable ones.
    assert.ok(runs.some((r) => /…\(\d+ chars\)/.test(r.result.stdout + r.result.stderr)));
  });

  test('no secret in any file written (the token cache and key files excepted)', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(work);
    walk(home);
    const exempt = (p: string) => /\.(key|p12)$/.test(p) || p === join(cacheDir, 'tokens.json');
    const scanned = files.filter((f) => !exempt(f));
    assert.ok(
      scanned.some((f) => f.endsWith('smoke.xml')) && scanned.some((f) => f.endsWith('client.jwks.json')),
    );
    const leaks: string[] = [];
    for (const f of scanned) {
      const text = readFileSync(f, 'latin1');
      for (const [name, value] of secrets)
        if (text.includes(value)) leaks.push(`${relative(root, f)} holds ${name}…`);
    }
    assert.deepEqual(leaks, []);
    assert.deepEqual(
      files
        .filter((f) => !scanned.includes(f))
        .map((f) => relative(root, f))
        .sort(),
      [
        'home/.config/mtls-oauth/tokens.json',
        'work/certs-v/ca.key',
        'work/certs-v/client.key',
        'work/certs-v/client.p12',
        'work/certs/ca.key',
        'work/certs/client.key',
        'work/certs/client.p12',
      ],
      'nothing else was exempt',
    );
  });

  test('the token cache and key files are 0600 (the cache directory 0700)', () => {
    for (const f of ['certs/ca.key', 'certs/client.key', 'certs/client.p12']) {
      assert.equal(statSync(join(work, f)).mode & 0o777, 0o600, f);
    }
    assert.equal(statSync(join(cacheDir, 'tokens.json')).mode & 0o777, 0o600);
    assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
  });

  test('--show-secrets (the control): the tokens and the client credentials do appear', async () => {
    const before = secrets.size;
    const r = await run('token --show-secrets -v', ['token', ...secretClient(), '--show-secrets', '-v'], {
      env: env({ MTLS_OAUTH_CLIENT_SECRET: clientSecret }),
    });
    assert.ok(secrets.size > before, 'a new access token was issued');
    const token = [...secrets.entries()].filter(([k]) => k.startsWith('access_token')).at(-1)![1];
    assert.ok(r.stdout.includes(token), 'the access token in full on stdout');
    assert.ok(
      r.stderr.includes(Buffer.from(`secret:${encodeURIComponent(clientSecret)}`).toString('base64')),
      'the Basic credentials in the -v log',
    );
  });

  test('a cache file others can read is refused with a warning: not read, not written, nothing printed from it', async () => {
    const file = join(cacheDir, 'tokens.json');
    await run('token (fill the cache)', ['token', ...kong()]);
    const before = readFileSync(file, 'utf8');
    chmodSync(file, 0o644);
    const r = await run('introspect (wide cache)', ['introspect', ...kong()], { expect: [2] });
    assert.match(
      r.stderr,
      /warning: token cache .*tokens\.json has mode 0644, readable by others than you: not used/,
    );
    assert.match(r.stderr, /treat the tokens in it as exposed/);
    const t = await run('token (wide cache)', ['token', ...kong()]);
    assert.match(t.stderr, /has mode 0644/);
    assert.equal(readFileSync(file, 'utf8'), before, 'the refused file was not rewritten');
    assert.equal(statSync(file).mode & 0o777, 0o644, "nor its mode changed behind the user's back");
    chmodSync(file, 0o600);
  });
});

// A token endpoint whose 200 answer is not clean JSON (a BOM before it, the form encoding, plain
// text, JSON with trailing bytes), or whose error page echoes what it was sent. Through the built
// CLI in human, -v and --json modes and in `smoke --junit`: no piece of a token, nor of the client
// secret `Winter2024!Kong`, is printed or written; --show-secrets is the control.
describe('a token endpoint answering with tokens in a body that is not clean JSON', () => {
  const clientSecret = 'Winter2024!Kong';
  let pki: FaultPki;
  let server: BadServer;
  let answer: { status?: number; body: string; contentType?: string };
  const jwtPart = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const fresh = () => ({
    access: [
      jwtPart({ alg: 'RS256', typ: 'at+jwt' }),
      jwtPart({ sub: 'kong', jti: randomBytes(12).toString('hex') }),
      randomBytes(64).toString('base64url'),
    ].join('.'),
    refresh: randomBytes(32).toString('base64url'),
  });

  before(async () => {
    pki = await faultPki();
    server = await startBadServer('json', {
      cert: pki.server.cert,
      key: pki.server.key,
      route: () => answer,
    });
  });
  after(async () => {
    await server.close();
    pki.remove();
  });

  const env = () => pki.env({ MTLS_OAUTH_CLIENT_SECRET: clientSecret });
  /** The IdP flags: client_secret_post over the client certificate, so the secret is in every request. */
  const clientArgs = () => [
    ...pki.args('token', server.url).filter((a) => a !== 'token' && a !== '--no-cache'),
    '--auth',
    'client_secret_post',
  ];
  const tokenArgs = () => ['token', ...clientArgs(), '--no-cache'];

  /** No 12-character piece of a token, no 5-character piece of the client secret, in `text`. */
  function leaks(text: string, tokens: string[]): string[] {
    const found: string[] = [];
    for (const t of tokens)
      for (let i = 0; i + 12 <= t.length; i += 4)
        if (text.includes(t.slice(i, i + 12))) found.push(`token piece ${t.slice(i, i + 12)}`);
    for (let i = 0; i + 5 <= clientSecret.length; i++)
      if (text.includes(clientSecret.slice(i, i + 5)))
        found.push(`secret piece ${clientSecret.slice(i, i + 5)}`);
    return found;
  }

  /** The token command in human, -v, --json and -v --json, and smoke --junit: nothing leaks. */
  async function runAll(name: string, tokens: string[], expect: number) {
    const results: Array<[string, CliResult]> = [];
    for (const mode of [[], ['-v'], ['--json'], ['-v', '--json']]) {
      const r = await runCli([...tokenArgs(), ...mode], { env: env() });
      assertNoStack(r);
      assert.equal(r.code, expect, `${name} ${mode.join(' ')}: exit ${r.code}\n${r.stderr}`);
      results.push([`${name} ${mode.join(' ')}`, r]);
    }
    const junit = join(pki.dir, `${name.replace(/\W+/g, '-')}.xml`);
    const s = await runCli(['smoke', ...clientArgs(), '--steps', 'token', '--junit', junit, '-v'], {
      env: env(),
    });
    assertNoStack(s);
    results.push([`${name} smoke -v`, s]);
    const xml = readFileSync(junit, 'utf8');
    const found = [
      ...results.flatMap(([n, r]) => leaks(r.stdout + r.stderr, tokens).map((l) => `${n}: ${l}`)),
      ...leaks(xml, tokens).map((l) => `${name} JUnit: ${l}`),
    ];
    assert.deepEqual(found, [], `${name}: nothing leaks`);
    return { results: Object.fromEntries(results), xml };
  }

  test('JSON after a byte order mark: read as JSON (exit 0), tokens shown only as fingerprints', async () => {
    const t = fresh();
    answer = {
      body: `\ufeff${JSON.stringify({ access_token: t.access, refresh_token: t.refresh, token_type: 'Bearer', expires_in: 300 })}`,
    };
    const { results, xml } = await runAll('bom', [t.access, t.refresh], 0);
    assert.match(results['bom '].stdout, /access token\s+sha256:[0-9a-f]{8}…\(\d+ chars\)/);
    assert.match(jsonOf(results['bom --json']).result.refresh_token, /^sha256:[0-9a-f]{8}…\(43 chars\)$/);
    assert.match(xml, /<testcase [^>]*name="token"/);
    // The control: --show-secrets prints them.
    const shown = await runCli([...tokenArgs(), '--json', '--show-secrets'], { env: env() });
    assert.equal(jsonOf(shown).result.access_token, t.access);
  });

  test('a form-encoded token response: refused by name (exit 4, BAD_TOKEN_RESPONSE), its tokens not shown', async () => {
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain']) {
      const t = fresh();
      answer = {
        contentType,
        body: `access_token=${t.access}&refresh_token=${t.refresh}&token_type=bearer&expires_in=300`,
      };
      const { results, xml } = await runAll(`form ${contentType}`, [t.access, t.refresh], 4);
      assert.match(
        results[`form ${contentType} `].stderr,
        /error: token request: the token response is form-encoded \(.+\), not JSON as RFC 6749 §5\.1 requires; its tokens were not used, cached or shown/,
      );
      const doc = jsonOf(results[`form ${contentType} --json`]);
      assert.equal(doc.error!.code, 'BAD_TOKEN_RESPONSE');
      assert.equal(doc.error!.details.response.token_type, 'bearer');
      assert.match(doc.error!.details.response.access_token, /^sha256:/);
      assert.match(xml, /form-encoded/);
    }
  });

  test('plain text, JSON with trailing bytes, an HTML page: NOT_JSON (exit 3), the tokens not shown', async () => {
    const cases: Array<[string, (t: ReturnType<typeof fresh>) => typeof answer, RegExp]> = [
      ['opaque text', (t) => ({ contentType: 'text/plain', body: `${t.refresh}\n` }), /bytes, not shown/],
      [
        'json and more',
        (t) => ({ body: `{"access_token":"${t.access}","refresh_token":"${t.refresh}"} trailing` }),
        /"access_token":"sha256:/,
      ],
      [
        'html',
        (t) => ({
          contentType: 'text/html',
          body: `<html><p>Bearer ${t.refresh}</p><p>access_token=${t.access}</p></html>`,
        }),
        /<html>/,
      ],
    ];
    for (const [name, make, shown] of cases) {
      const t = fresh();
      answer = make(t);
      const { results } = await runAll(name, [t.access, t.refresh], 3);
      assert.match(
        results[`${name} `].stderr,
        /error: token request: .* answered HTTP 200 with .* instead of JSON/,
      );
      assert.match(results[`${name} `].stderr, shown);
    }
  });

  test('an error page that echoes the request: the client secret and the code redacted (exit 3)', async () => {
    const t = fresh();
    answer = {
      status: 400,
      contentType: 'text/html',
      body: `<html>bad request: client_secret=${clientSecret}; you said "${clientSecret}" and ${t.refresh}</html>`,
    };
    const { results } = await runAll('echo', [], 3);
    assert.match(
      results['echo '].stderr,
      /HTTP 400 .*without an OAuth error: ".*client_secret=\*\*\*\(15 chars\)/,
    );
    // -v: the request's form shows the secret concealed.
    assert.match(results['echo -v'].stderr, /client_secret=\*\*\*\(15 chars\)/);
  });

  test('config show and -v never show a character of the client secret', async () => {
    const r = await runCli(['config', 'show', ...clientArgs(), '-v'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /clientSecret\s+\*\*\*\(15 chars\)/);
    assert.deepEqual(leaks(r.stdout + r.stderr, []), []);
    const basic = await runCli([...tokenArgs(), '--auth', 'client_secret_basic', '-v'], {
      env: env(),
    });
    const credentials = Buffer.from(`kong:${encodeURIComponent(clientSecret)}`).toString('base64');
    assert.match(basic.stderr, /> authorization: Basic \*\*\*\(\d+ chars\)/);
    assert.ok(!basic.stderr.includes(credentials.slice(0, 6)), 'no start of the Basic credentials');
  });
});
