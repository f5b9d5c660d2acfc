// Child process for interrupted-writes.test.ts: writes generation after generation of a file set
// (MODE set: writeFilesAtomicAsync, as `certs init` does) or of the token cache (MODE cache:
// TokenCache.set, a synchronous atomic write), forever, until a signal ends it. Prints "ready" once
// the first generation is on disk.
//
//   node --import tsx test/faults/write-loop.ts set|cache DIR

import { join } from 'node:path';
import { writeFilesAtomicAsync } from '../../src/core/files.ts';
import { TokenCache } from '../../src/core/token-cache.ts';

const [mode, dir] = process.argv.slice(2);
const PAD = 'x'.repeat(16 * 1024);

export const SET = ['ca.crt', 'ca.key', 'client.crt', 'client.key', 'client.jwks.json'];

let gen = 0;
let announced = false;
const ready = () => {
  if (!announced) {
    announced = true;
    process.stdout.write('ready\n');
  }
};

if (mode === 'set') {
  for (;;) {
    gen++;
    await writeFilesAtomicAsync(
      SET.map((name) => ({
        path: join(dir, name),
        data: `generation ${gen}\n${PAD}\n`,
        mode: name.endsWith('.key') ? 0o600 : 0o644,
      })),
      { force: true },
    );
    ready();
  }
} else if (mode === 'cache') {
  const cache = new TokenCache({
    file: join(dir, 'tokens.json'),
    warn: (m) => process.stderr.write(`${m}\n`),
  });
  // Another client's entry, written once: every later write must carry it over.
  cache.set('other', { client_id: 'other', access_token: `other-${PAD}`, obtained_at: 0 });
  const step = () => {
    gen++;
    cache.update('kong', () => ({ client_id: 'kong', access_token: `at-${gen}-${PAD}`, obtained_at: gen }));
    ready();
    setImmediate(step);
  };
  step();
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exitCode = 2;
}
