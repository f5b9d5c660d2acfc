// stdout and stderr for a CLI whose reader may go away (`mtls-oauth ... | head`): EPIPE ends the
// process quietly with the exit code so far.
//
// process.stdout and process.stderr are streams Node builds on first use, loading its stream
// machinery (about 4 ms when they are pipes). `--help`, `--version` and usage errors never need
// them: commander writes those straight to the file descriptors (commanderOutput).

import { fstatSync, writeSync } from 'node:fs';
import type { OutputConfiguration } from 'commander';
import { EXIT } from './exit-codes.ts';
import { fitText, outputWidth } from './wrap.ts';

const gone = (e: unknown) => (e as NodeJS.ErrnoException)?.code === 'EPIPE';

let guarded = false;
/** Turns EPIPE on process.stdout / process.stderr into a quiet exit. Once; on the first Ui. */
export function guardStdio(): void {
  if (guarded) return;
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (gone(e)) process.exit(process.exitCode ?? EXIT.ok);
      throw e;
    });
  }
}

/** Writes all of `text` to fd 1 or 2 now; EPIPE exits quietly. */
export function writeFd(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (e) {
      if (gone(e)) process.exit(process.exitCode ?? EXIT.ok);
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      // A non-blocking pipe that is full: the stream queues the rest.
      guardStdio();
      (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(done));
      return;
    }
  }
}

/** Whether fd may be a terminal: only character devices can be (so can /dev/null: then ask the stream). */
function mayBeTty(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return false;
  }
}

/** Whether fd is a terminal, without building the stream of one that is not. */
function isTty(fd: 1 | 2): boolean {
  return mayBeTty(fd) && !!(fd === 1 ? process.stdout : process.stderr).isTTY;
}

/** The terminal's width on fd, else COLUMNS; undefined: a pipe or file with no width set (wrap.ts). */
function widthOf(fd: 1 | 2): number | undefined {
  return outputWidth(isTty(fd) ? (fd === 1 ? process.stdout : process.stderr) : {});
}

/**
 * Writes help to stdout fitted to the screen (wrap.ts), or to 80 columns in a pipe, as commander
 * and man pages do: help is prose to read, not lines to grep.
 */
export function writeHelp(text: string): void {
  writeFd(1, fitText(text, widthOf(1) ?? 80));
}

/** commander's output settings: its own defaults, but without building a stream that is not a terminal. */
export function commanderOutput(): OutputConfiguration {
  const stream = (fd: 1 | 2) => (fd === 1 ? process.stdout : process.stderr);
  // commander's own useColor() (not exported by its index): NO_COLOR, FORCE_COLOR, CLICOLOR_FORCE.
  const forced = (): boolean | undefined => {
    const env = process.env;
    if (env.NO_COLOR || env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
    if (env.FORCE_COLOR || env.CLICOLOR_FORCE !== undefined) return true;
    return undefined;
  };
  // Help is fitted here, not by commander (program.ts sets its width to infinity).
  return {
    writeOut: writeHelp,
    // Usage errors (and help after one) stay whole lines in a log.
    writeErr: (text: string) => writeFd(2, fitText(text, widthOf(2))),
    outputError: (text: string, write: (text: string) => void) => write(text),
    getOutHasColors: () => forced() ?? (isTty(1) && !!stream(1).hasColors?.()),
    getErrHasColors: () => forced() ?? (isTty(2) && !!stream(2).hasColors?.()),
  };
}
