// The `smoke` section of `npm run bench` (scripts/bench.mjs imports it; it also runs on its own:
// `npm run build && node scripts/bench-smoke.mjs`).
//
// Against one local test IdP with mtls_endpoint_aliases (test/helpers/idp.ts, in a child process):
//   - `mtls-oauth smoke --steps introspect-after-revoke,introspect`: discovery, token, introspect,
//     revoke, introspect again (five requests) in one process, against the same five requests made
//     by five curl invocations (discovery without a certificate, the rest with it, at the aliases).
//                                                   Goal (issue 6): smoke takes less wall time.
//   - the full `mtls-oauth smoke` (all seven steps: also the TLS probe and the binding check),
//     against the same five curls, for scale.
// Medians of whole-process wall times, runs interleaved; the machine is noisy, so read the ratios.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'mtls-oauth');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const ms = (x) => `${x.toFixed(1).padStart(6)} ms`;

/** Wall time of one process (ms); throws on a non-zero exit. */
function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
  return { t, stdout: r.stdout };
}

const IDP_SCRIPT = `
import { startIdp, writePkiFiles } from ${JSON.stringify(pathToFileURL(join(ROOT, 'test/helpers/idp.ts')).href)};
const idp = await startIdp({ aliases: true });
const files = writePkiFiles(idp.pki, process.env.BENCH_DIR);
process.stdout.write(JSON.stringify({ issuer: idp.issuer, aliases: idp.aliases, files }) + '\\n');
process.stdin.on('end', () => idp.close().then(() => process.exit(0)));
process.stdin.resume();
`;

/** The test IdP in a child process (the measurements below block this one). */
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

/** Runs the section; returns the medians (also printed). */
export async function benchSmoke({ runs = 15, log = console.log } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  const idp = await startIdpProcess(dir);
  try {
    const f = idp.files;
    const a = idp.aliases;
    const env = { ...process.env, NO_COLOR: '1', MTLS_OAUTH_CACHE_DIR: dir, XDG_CONFIG_HOME: dir };
    for (const k of Object.keys(env))
      if (k.startsWith('MTLS_OAUTH_') && k !== 'MTLS_OAUTH_CACHE_DIR') delete env[k];
    const common = [
      BIN,
      'smoke',
      '--issuer',
      idp.issuer,
      '--client-id',
      'kong',
      '--cert',
      f.clientCert,
      '--key',
      f.clientKey,
      '--ca',
      f.ca,
    ];
    const five = [...common, '--steps', 'introspect,introspect-after-revoke'];
    const full = common;
    const curlTls = ['-s', '--fail', '--cert', f.clientCert, '--key', f.clientKey, '--cacert', f.ca];
    const curlForm = (url, token) => [...curlTls, '-d', `token=${token}`, '-d', 'client_id=kong', url];
    const fiveCurls = () => {
      const d = timed('curl', [
        '-s',
        '--fail',
        '--cacert',
        f.ca,
        `${idp.issuer}/.well-known/openid-configuration`,
      ]);
      const t = timed('curl', [
        ...curlTls,
        '-d',
        'grant_type=client_credentials',
        '-d',
        'client_id=kong',
        a.token_endpoint,
      ]);
      const token = JSON.parse(t.stdout).access_token;
      const i1 = timed('curl', curlForm(a.introspection_endpoint, token));
      const r = timed('curl', curlForm(a.revocation_endpoint, token));
      const i2 = timed('curl', curlForm(a.introspection_endpoint, token));
      if (JSON.parse(i1.stdout).active !== true || JSON.parse(i2.stdout).active !== false) {
        throw new Error('curl: unexpected introspection answers');
      }
      return d.t + t.t + i1.t + r.t + i2.t;
    };

    // Warm-up: disk caches, the IdP's first requests; and a check that both runs pass.
    timed(process.execPath, ['-e', '0']);
    const check = JSON.parse(timed(process.execPath, [...five, '--json'], { env }).stdout);
    if (
      check.checks.map((c) => c.name).join(',') !==
      'discovery,token,introspect,revoke,introspect-after-revoke'
    ) {
      throw new Error(`unexpected plan: ${check.checks.map((c) => c.name)}`);
    }
    const handshakes = check.tls.length;
    timed(process.execPath, full, { env });
    fiveCurls();

    const r = { nodeE0: [], five: [], fiveRun: [], fiveSteps: [], full: [], curls: [] };
    for (let i = 0; i < runs; i++) {
      r.nodeE0.push(timed(process.execPath, ['-e', '0']).t);
      // --json costs nothing measurable and tells how much of the wall time the run itself took.
      const f = timed(process.execPath, [...five, '--json'], { env });
      const inner = JSON.parse(f.stdout).result;
      r.five.push(f.t);
      r.fiveRun.push(inner.timeMs);
      r.fiveSteps.push(inner.steps.reduce((t, s) => t + s.timeMs, 0));
      r.full.push(timed(process.execPath, full, { env }).t);
      r.curls.push(fiveCurls());
    }
    const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
    log(`smoke (medians of ${runs} interleaved runs, whole processes, one local test IdP with mTLS aliases)`);
    log(`  node -e 0                                         ${ms(m.nodeE0)}`);
    log(
      `  smoke: discovery, token, introspect, revoke, introspect ${ms(m.five)}  (${handshakes} handshakes: one per host)`,
    );
    log(
      `    of which the run (certificate, transport, steps) ${ms(m.fiveRun)}, the five steps ${ms(m.fiveSteps)}; the rest is Node starting and loading the CLI`,
    );
    log(`  the same five requests as five curl invocations   ${ms(m.curls)}`);
    log(`  smoke, all 7 steps (+ TLS probe, binding check)   ${ms(m.full)}`);
    log(
      `  goal: smoke faster than five curls: ${m.five < m.curls ? 'met' : 'NOT met'} (${(m.curls / m.five).toFixed(2)}x; all 7 steps: ${(m.curls / m.full).toFixed(2)}x)`,
    );
    return { ...m, handshakes };
  } finally {
    await idp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await benchSmoke({ runs: Number(process.env.BENCH_RUNS) || 15 });
}
