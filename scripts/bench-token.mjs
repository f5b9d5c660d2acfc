// The `token` section of `npm run bench` (scripts/bench.mjs imports it; it also runs on its own:
// `npm run build && node scripts/bench-token.mjs`).
//
// Against one local test IdP (test/helpers/idp.ts, started in a child process with tsx):
//   1. `mtls-oauth token --grant client_credentials` (the built CLI, explicit token endpoint, no
//      cache, no binding introspection: the same single POST) against `curl` doing that POST with
//      --cert/--key/--cacert, and against `node -e 0`.           Goal: token within 2x of node -e 0.
//   2. token + introspect + revoke + introspect in one process (a small script on src/core, bundled
//      with esbuild like the CLI; one TLS handshake per host) against four curl invocations.
//                                                               Goal: the sequence beats the curls.
// Medians of whole-process wall times; the machine is noisy, so read the ratios.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'mtls-oauth');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const ms = (x) => `${x.toFixed(1)} ms`;

/** Wall time of one process (ms); throws on a non-zero exit. */
function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
  return { t, stdout: r.stdout };
}

const IDP_SCRIPT = `
import { startIdp, writePkiFiles } from ${JSON.stringify(join(ROOT, 'test/helpers/idp.ts'))};
const idp = await startIdp();
const files = writePkiFiles(idp.pki, process.env.BENCH_DIR);
process.stdout.write(JSON.stringify({ issuer: idp.issuer, endpoints: idp.endpoints, files }) + '\\n');
process.stdin.on('end', () => idp.close().then(() => process.exit(0)));
process.stdin.resume();
`;

/** Starts the test IdP in a child process (the measurements below block this one). */
async function startIdpProcess(dir) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', IDP_SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, BENCH_DIR: dir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const info = await new Promise((res, rej) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) res(JSON.parse(out.slice(0, nl)));
    });
    child.on('exit', (code) => rej(new Error(`the test IdP exited (${code}) before it was ready`)));
  });
  const stop = () =>
    new Promise((r) => {
      child.on('exit', r);
      child.stdin.end();
    });
  return { ...info, stop };
}

// The one-process sequence on src/core, bundled like the CLI (esbuild, liftoff-only like bin/).
const SEQUENCE_SOURCE = `
import v8 from 'node:v8';
v8.setFlagsFromString('--liftoff-only');
const t0 = performance.now();
const { openSession } = await import(${JSON.stringify(join(ROOT, 'src/core/session.ts'))});
const { tokenRequest, introspectToken, revokeToken } = await import(${JSON.stringify(join(ROOT, 'src/core/token-endpoint.ts'))});
const [tokenEndpoint, introspectionEndpoint, revocationEndpoint, cert, key, ca] = process.argv.slice(2);
const s = await openSession({
  settings: { clientId: 'kong', cert, key, ca, tokenEndpoint, introspectionEndpoint, revocationEndpoint },
});
const t1 = performance.now();
const { token } = await tokenRequest(s.client, s.endpoint('token').url, { grant_type: 'client_credentials' });
const a = await introspectToken(s.client, s.endpoint('introspection').url, token.access_token);
await revokeToken(s.client, s.endpoint('revocation').url, token.access_token);
const b = await introspectToken(s.client, s.endpoint('introspection').url, token.access_token);
const t2 = performance.now();
if (!a.response.active || b.response.active) throw new Error('unexpected introspection answers');
const handshakes = s.http.connections.length;
await s.close();
process.stdout.write(JSON.stringify({ setupMs: t1 - t0, requestsMs: t2 - t1, handshakes }) + '\\n');
`;

async function bundleSequence(dir) {
  const { build } = await import('esbuild');
  const entry = join(dir, 'sequence-entry.mjs');
  writeFileSync(entry, SEQUENCE_SOURCE);
  const out = join(dir, 'sequence.mjs');
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['open'],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
    nodePaths: [join(ROOT, 'node_modules')],
  });
  return out;
}

/** Runs the section; returns the numbers (also printed). */
export async function benchToken({ runs = 15, log = console.log } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-token-'));
  const idp = await startIdpProcess(dir);
  try {
    const f = idp.files;
    const ep = idp.endpoints;
    const env = { ...process.env, NO_COLOR: '1', MTLS_OAUTH_CACHE_DIR: dir };
    for (const k of Object.keys(env))
      if (k.startsWith('MTLS_OAUTH_') && k !== 'MTLS_OAUTH_CACHE_DIR') delete env[k];
    const tls = ['--cert', f.clientCert, '--key', f.clientKey];
    const curlTls = ['-s', '--fail', '--cert', f.clientCert, '--key', f.clientKey, '--cacert', f.ca];
    const cli = [
      BIN,
      'token',
      '--grant',
      'client_credentials',
      '--token-endpoint',
      ep.token,
      '--client-id',
      'kong',
      ...tls,
      '--ca',
      f.ca,
      '--no-cache',
      '--no-introspect',
    ];
    const curlToken = [...curlTls, '-d', 'grant_type=client_credentials', '-d', 'client_id=kong', ep.token];
    const curlForm = (url, token) => [...curlTls, '-d', `token=${token}`, '-d', 'client_id=kong', url];
    const sequence = await bundleSequence(dir);
    const seqArgs = [sequence, ep.token, ep.introspection, ep.revocation, f.clientCert, f.clientKey, f.ca];

    // Warm-up: disk caches, the IdP's first requests.
    timed('node', ['-e', '0']);
    timed(process.execPath, cli, { env });
    timed('curl', curlToken);
    timed(process.execPath, seqArgs);

    const r = {
      nodeE0: [],
      cli: [],
      curl: [],
      seq: [],
      seqSetup: [],
      seqRequests: [],
      curl4: [],
      handshakes: 0,
    };
    for (let i = 0; i < runs; i++) {
      r.nodeE0.push(timed(process.execPath, ['-e', '0']).t);
      r.cli.push(timed(process.execPath, cli, { env }).t);
      r.curl.push(timed('curl', curlToken).t);
      const s = timed(process.execPath, seqArgs);
      const inner = JSON.parse(s.stdout);
      r.seq.push(s.t);
      r.seqSetup.push(inner.setupMs);
      r.seqRequests.push(inner.requestsMs);
      r.handshakes = inner.handshakes;
      // Four curls: the token, then introspect, revoke, introspect with it.
      const t = timed('curl', curlToken);
      const token = JSON.parse(t.stdout).access_token;
      const a = timed('curl', curlForm(ep.introspection, token));
      const b = timed('curl', curlForm(ep.revocation, token));
      const c = timed('curl', curlForm(ep.introspection, token));
      if (JSON.parse(c.stdout).active !== false)
        throw new Error('curl: the token is still active after revocation');
      r.curl4.push(t.t + a.t + b.t + c.t);
    }
    const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? median(v) : v]));
    log(`token (medians of ${runs} runs, whole processes, one local test IdP)`);
    log(`  node -e 0                                  ${ms(m.nodeE0)}`);
    log(
      `  mtls-oauth token --grant client_credentials ${ms(m.cli)}  (${(m.cli / m.nodeE0).toFixed(2)}x node -e 0; goal <= 2x)`,
    );
    log(
      `  curl, the same POST                        ${ms(m.curl)}  (mtls-oauth ${(m.cli / m.curl).toFixed(1)}x curl)`,
    );
    log(
      `  token+introspect+revoke+introspect, 1 proc ${ms(m.seq)}  (setup ${ms(m.seqSetup)}, the 4 requests ${ms(m.seqRequests)}, ${m.handshakes} handshake${m.handshakes === 1 ? '' : 's'})`,
    );
    log(
      `  the same as four curl invocations          ${ms(m.curl4)}  (goal: the sequence faster: ${m.seq < m.curl4 ? 'met' : 'NOT met'}; in-process requests alone ${(m.curl4 / m.seqRequests).toFixed(1)}x faster)`,
    );
    log(`  goal token <= 2x node -e 0: ${m.cli <= 2 * m.nodeE0 ? 'met' : 'NOT met'}`);
    return m;
  } finally {
    await idp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await benchToken({ runs: Number(process.env.BENCH_RUNS) || 15 });
}
