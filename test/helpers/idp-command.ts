// `mtls-oauth idp --json` in a child process, as a script runs it: wait for its one ready line,
// use the IdP, stop it with a signal.
//
//   const running = startIdpCommand(['idp', '--json'], { cwd, env });
//   const ready = await running.ready;          // the ready document's result
//   ... ready.issuer, ready.env.MTLS_OAUTH_CA ...
//   const r = await running.stop('SIGINT');     // CliResult: exit 130
//
// `bin` runs another installation (the pack test's). The child is SIGKILLed after `timeoutMs`
// whatever happens (a hang guard); stop() is safe to call more than once.
//
// No node:test imports here: the demo script uses this module too.

import { type ChildProcess, spawn } from 'node:child_process';
import { BIN, type CliResult } from './cli.ts';

/** The `result` of the ready line (src/cli/commands/idp.ts). */
export interface IdpReady {
  status: 'ready';
  issuer: string;
  port: number;
  mtlsUrl: string;
  mtlsPort: number;
  mtlsEndpointAliases: Record<string, string>;
  clients: { tlsClientAuth: { clientId: string; subjectDn: string }; selfSigned: { clientId: string } };
  serverCertificate: { issuedBy?: string; file?: string; subject: string };
  user: { login: string; password: string };
  env: Record<
    'MTLS_OAUTH_ISSUER' | 'MTLS_OAUTH_CLIENT_ID' | 'MTLS_OAUTH_CERT' | 'MTLS_OAUTH_KEY' | 'MTLS_OAUTH_CA',
    string
  >;
  args: string[];
}

export interface RunningIdpCommand {
  child: ChildProcess;
  /** Resolves with the ready document's result; rejects when the process ends first. */
  ready: Promise<IdpReady>;
  /** Resolves when the process has ended. */
  done: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` (unless it has ended) and waits for the end. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

export function startIdpCommand(
  args: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; bin?: string } = {},
): RunningIdpCommand {
  const child = spawn(process.execPath, [o.bin ?? BIN, ...args], {
    cwd: o.cwd,
    env: o.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let settle!: { resolve: (r: IdpReady) => void; reject: (e: Error) => void };
  const ready = new Promise<IdpReady>((resolve, reject) => {
    settle = { resolve, reject };
  });
  ready.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    const nl = stdout.indexOf('\n');
    if (nl < 0) return;
    try {
      settle.resolve(JSON.parse(stdout.slice(0, nl)).result as IdpReady);
    } catch (e) {
      settle.reject(
        new Error(`the first line is not the ready document (${(e as Error).message}):\n${stdout}`),
      );
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve) => {
    child.on('error', (e) => settle.reject(e));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      settle.reject(
        new Error(`mtls-oauth idp ended (exit ${code}, ${signal}) before it was ready:\n${stderr}`),
      );
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    ready,
    done,
    stdout: () => stdout,
    stderr: () => stderr,
    stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return done;
    },
  };
}
