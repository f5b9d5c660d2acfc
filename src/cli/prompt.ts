// Secrets typed at the terminal: the prompt on stderr, the answer without echo (raw mode), Ctrl-C
// an interruption (exit 130). Used by `certs` (key and PKCS#12 passwords) and `token` (the password
// grant) when no environment variable holds the secret.

import { MtlsOAuthError } from '../core/errors.ts';

/** Whether there is a person to ask: a terminal on stdin and on stderr. */
export function canPrompt(): boolean {
  return !!process.stdin.isTTY && !!process.stderr.isTTY && typeof process.stdin.setRawMode === 'function';
}

/** Reads a line from the terminal without echoing it. Ctrl-C is an interruption (exit 130). */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the question shows: whatever is typed the moment it appears stays unseen.
  stdin.setRawMode(true);
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      if (chunk.startsWith('\u001b')) return; // arrow keys and other escape sequences
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new MtlsOAuthError('interrupted', 'INTERRUPTED', 'interrupted; nothing was written'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') {
          value = Array.from(value).slice(0, -1).join('');
        } else if (ch >= ' ') {
          value += ch;
        }
      }
    };
    stdin.setEncoding('utf8');
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * One line from stdin, visible (login --paste: a URL the person pastes, or a pipe). The question
 * goes to stderr on a terminal. At the end of input without a line: ''.
 */
export async function readLine(question: string): Promise<string> {
  // node:readline loads on use: most runs never ask (about 4 ms of every start).
  const { createInterface } = await import('node:readline');
  const rl = createInterface({
    input: process.stdin,
    ...(process.stdin.isTTY ? { output: process.stderr, terminal: true } : { terminal: false }),
  });
  return new Promise((resolve) => {
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) resolve('');
    });
    if (process.stdin.isTTY) {
      rl.setPrompt(question);
      rl.prompt();
    }
  });
}
