// Human output goes to stdout, progress and diagnostics to stderr. With --json, stdout carries
// exactly one JSON document and the human writers are silent.

import type { ChalkInstance } from 'chalk';
import { terminalSafe } from '../core/safe-text.ts';
import { guardStdio } from './stdio.ts';
import { outputWidth } from './wrap.ts';

export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
  debug?: boolean;
  showSecrets?: boolean;
  color?: boolean;
}

type Paint = (s: string) => string;
export interface Colors {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
}
const plain: Paint = (s) => s;
const PLAIN: Colors = { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };

function colorsOf(ch: ChalkInstance): Colors {
  return { bold: ch.bold, dim: ch.dim, red: ch.red, green: ch.green, yellow: ch.yellow, cyan: ch.cyan };
}

export interface Spinner {
  text(s: string): void;
  stop(): void;
}

export class Ui {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly showSecrets: boolean;
  /** Colours for stdout and for stderr; plain when the stream is not a TTY, NO_COLOR is set or --no-color. */
  c: Colors = PLAIN;
  e: Colors = PLAIN;
  private readonly stdout: NodeJS.WritableStream;
  private readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };

  constructor(
    readonly opts: GlobalOptions,
    streams: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {},
  ) {
    this.json = !!opts.json;
    this.verbose = !!opts.verbose;
    this.showSecrets = !!opts.showSecrets;
    if (!streams.stdout || !streams.stderr) guardStdio();
    this.stdout = streams.stdout ?? process.stdout;
    this.stderr = streams.stderr ?? process.stderr;
  }

  /** Loads chalk only when a command runs: `--help` stays fast. */
  async init(): Promise<void> {
    if (this.opts.color === false || process.env.NO_COLOR) return;
    // chalk costs ~10 ms to load: skip it when no stream can show colour.
    if (!(process.stdout as { isTTY?: boolean }).isTTY && !this.stderr.isTTY && !process.env.FORCE_COLOR)
      return;
    const { Chalk, supportsColor, supportsColorStderr } = await import('chalk');
    const forced = !!process.env.FORCE_COLOR;
    if (supportsColor && ((process.stdout as { isTTY?: boolean }).isTTY || forced)) {
      this.c = colorsOf(new Chalk({ level: supportsColor.level }));
    }
    if (supportsColorStderr && (this.stderr.isTTY || forced))
      this.e = colorsOf(new Chalk({ level: supportsColorStderr.level }));
  }

  /** The width human output should fit (wrap.ts): the terminal's, or COLUMNS; undefined: any. */
  get width(): number | undefined {
    return outputWidth(this.stdout as { isTTY?: boolean; columns?: number });
  }

  // Every line goes through terminalSafe() (core/safe-text.ts): whatever a renderer missed, text
  // from the network cannot drive the terminal.

  /** A line of human output (silent under --json). */
  out(line = ''): void {
    if (!this.json) this.stdout.write(`${terminalSafe(line)}\n`);
  }

  /** Raw stdout, for the one JSON document. */
  writeStdout(text: string): void {
    this.stdout.write(text);
  }

  /** A line on stderr: progress, diagnostics, warnings. Always shown. */
  err(line = ''): void {
    this.stderr.write(`${terminalSafe(line)}\n`);
  }

  warn(message: string): void {
    this.err(`${this.e.yellow('warning:')} ${message}`);
  }

  /** Verbose diagnostics on stderr, only with -v. */
  debug(line: string): void {
    if (this.verbose) this.err(this.e.dim(line));
  }

  /** A spinner on stderr, only on a TTY and never under --json; otherwise a no-op. */
  async spinner(text: string): Promise<Spinner> {
    const none = { text: () => {}, stop: () => {} };
    if (this.json || !this.stderr.isTTY || process.env.CI) return none;
    // A terminal that reports no width (`script`, some CI pseudo-terminals): ora 9 divides the
    // line by a width of 0 and then clears lines forever when it stops.
    if (!((this.stderr as { columns?: number }).columns! > 0)) return none;
    const { default: ora } = await import('ora');
    const s = ora({ text: terminalSafe(text), stream: this.stderr, discardStdin: false }).start();
    return {
      text: (t) => {
        s.text = terminalSafe(t);
      },
      stop: () => {
        s.stop();
      },
    };
  }
}

/** Aligned `label  value` rows for human output. */
export function table(rows: Array<[string, string | undefined]>, indent = '  '): string[] {
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
  const w = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(
    ([k, v]) => `${indent}${k.padEnd(w)}  ${v.replace(/\n/g, `\n${indent}${' '.repeat(w + 2)}`)}`,
  );
}
