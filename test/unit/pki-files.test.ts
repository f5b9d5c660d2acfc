// src/core/files.ts: atomic, all-or-nothing writes that never overwrite without force, never
// follow a symbolic link, and set modes regardless of the umask.

import assert from 'node:assert/strict';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  checkOutputs,
  type OutputFile,
  readInputFile,
  type WriteOptions,
  writeFileAtomic,
  writeFilesAtomic,
  writeFilesAtomicAsync,
} from '../../src/core/files.ts';

const root = mkdtempSync(join(tmpdir(), 'mtls-oauth-files-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};
const mode = (p: string) => statSync(p).mode & 0o777;
const usage = (code: string) => (e: any) => e.kind === 'usage' && e.code === code;

describe('writeFilesAtomic', () => {
  it('writes every file with its exact mode, whatever the umask', () => {
    for (const umask of [0o000, 0o077, 0o022]) {
      const old = process.umask(umask);
      try {
        const d = fresh();
        writeFilesAtomic([
          { path: join(d, 'a.crt'), data: 'cert', mode: 0o644 },
          { path: join(d, 'a.key'), data: 'key' },
          { path: join(d, 'b.bin'), data: Buffer.from([1, 2, 3]), mode: 0o600 },
        ]);
        assert.equal(mode(join(d, 'a.crt')), 0o644, `umask ${umask.toString(8)}`);
        assert.equal(mode(join(d, 'a.key')), 0o600, 'secret by default');
        assert.equal(mode(join(d, 'b.bin')), 0o600);
        assert.equal(readFileSync(join(d, 'a.key'), 'utf8'), 'key');
        assert.deepEqual([...readFileSync(join(d, 'b.bin'))], [1, 2, 3]);
        assert.deepEqual(readdirSync(d).sort(), ['a.crt', 'a.key', 'b.bin'], 'no temporary files left');
      } finally {
        process.umask(old);
      }
    }
  });

  it('creates missing directories', () => {
    const d = join(fresh(), 'x', 'y');
    writeFileAtomic(join(d, 'f'), 'data');
    assert.equal(readFileSync(join(d, 'f'), 'utf8'), 'data');
  });

  it('refuses to replace existing files without force, and writes none of the set', () => {
    const d = fresh();
    writeFileSync(join(d, 'b'), 'old');
    assert.throws(
      () =>
        writeFilesAtomic([
          { path: join(d, 'a'), data: 'new a' },
          { path: join(d, 'b'), data: 'new b' },
        ]),
      (e: any) => e.code === 'OUTPUT_EXISTS' && /b already exists/.test(e.message) && /--force/.test(e.hint),
    );
    assert.deepEqual(readdirSync(d), ['b']);
    assert.equal(readFileSync(join(d, 'b'), 'utf8'), 'old');
  });

  it('replaces with force, keeping the new mode', () => {
    const d = fresh();
    writeFileSync(join(d, 'k'), 'old', { mode: 0o644 });
    writeFileAtomic(join(d, 'k'), 'new', { force: true, mode: 0o600 });
    assert.equal(readFileSync(join(d, 'k'), 'utf8'), 'new');
    assert.equal(mode(join(d, 'k')), 0o600);
    assert.deepEqual(readdirSync(d), ['k']);
  });

  it('never writes through a symbolic link, even with force', () => {
    const d = fresh();
    const target = join(d, 'elsewhere');
    writeFileSync(target, 'precious');
    symlinkSync(target, join(d, 'client.key'));
    for (const force of [false, true]) {
      assert.throws(
        () =>
          writeFilesAtomic(
            [
              { path: join(d, 'ca.crt'), data: 'x' },
              { path: join(d, 'client.key'), data: 'evil' },
            ],
            { force },
          ),
        usage('OUTPUT_SYMLINK'),
      );
    }
    assert.equal(readFileSync(target, 'utf8'), 'precious');
    assert.ok(lstatSync(join(d, 'client.key')).isSymbolicLink());
    assert.deepEqual(readdirSync(d).sort(), ['client.key', 'elsewhere']);
  });

  it('refuses a directory in the way and a file where a directory should be', () => {
    const d = fresh();
    mkdirSync(join(d, 'ca.crt'));
    assert.throws(
      () => writeFileAtomic(join(d, 'ca.crt'), 'x', { force: true }),
      usage('OUTPUT_IS_DIRECTORY'),
    );
    writeFileSync(join(d, 'file'), '');
    assert.throws(
      () => writeFileAtomic(join(d, 'file', 'sub', 'ca.crt'), 'x'),
      (e: any) =>
        e.code === 'OUTPUT_UNWRITABLE' && e.message.includes(`${join(d, 'file')} is not a directory`),
    );
  });

  it('rolls everything back when a later file fails: new files removed, replaced files restored', () => {
    const d = fresh();
    writeFileSync(join(d, 'b'), 'old b');
    const files = [
      { path: join(d, 'a'), data: 'new a' },
      { path: join(d, 'b'), data: 'new b' },
      { path: join(d, 'c'), data: 'new c' },
    ];
    assert.throws(
      () =>
        writeFilesAtomic(files, {
          force: true,
          beforeCommit: (p) => {
            if (p.endsWith('c')) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
          },
        }),
      (e: any) => e.code === 'OUTPUT_UNWRITABLE' && /no space left/.test(e.message),
    );
    assert.deepEqual(readdirSync(d), ['b'], 'no new files, no temporary files');
    assert.equal(readFileSync(join(d, 'b'), 'utf8'), 'old b', 'the replaced file is back');
  });

  it('removes the directories it created when it fails', () => {
    const d = fresh();
    const out = join(d, 'new', 'deeper');
    assert.throws(
      () =>
        writeFilesAtomic([{ path: join(out, 'a'), data: 'x' }], {
          beforeCommit: () => {
            throw Object.assign(new Error('no'), { code: 'EIO' });
          },
        }),
      usage('OUTPUT_UNWRITABLE'),
    );
    assert.deepEqual(readdirSync(d), []);
  });

  it('reports an unwritable directory as a usage error', () => {
    const d = fresh();
    const ro = join(d, 'ro');
    mkdirSync(ro, { mode: 0o555 });
    // Root ignores permissions: act as nobody for this one synchronous call (the saved set-user-ID
    // stays root, so the effective IDs can be restored).
    const root = process.getuid?.() === 0;
    if (root) {
      process.setegid!(65534);
      process.seteuid!(65534);
    }
    try {
      assert.throws(() => writeFileAtomic(join(ro, 'a'), 'x'), usage('OUTPUT_UNWRITABLE'));
    } finally {
      if (root) {
        process.seteuid!(0);
        process.setegid!(0);
      }
    }
  });
});

describe('checkOutputs and readInputFile', () => {
  it('lists every existing file in one message', () => {
    const d = fresh();
    writeFileSync(join(d, 'a'), '');
    writeFileSync(join(d, 'b'), '');
    assert.throws(
      () => checkOutputs([join(d, 'a'), join(d, 'b'), join(d, 'c')]),
      (e: any) => e.code === 'OUTPUT_EXISTS' && e.details.existing.length === 2 && /exist;/.test(e.message),
    );
    checkOutputs([join(d, 'a')], { force: true });
  });

  it('names a missing input file', () => {
    assert.throws(
      () => readInputFile(join(root, 'nope.crt'), 'CA certificate'),
      (e: any) =>
        e.code === 'INPUT_UNREADABLE' &&
        /cannot read CA certificate .*nope\.crt: no such file/.test(e.message),
    );
  });
});

describe('writeFilesAtomicAsync (files synced in parallel)', () => {
  const write = (files: OutputFile[], opts?: WriteOptions) => writeFilesAtomicAsync(files, opts);

  it('writes the set with exact modes', async () => {
    const old = process.umask(0o077);
    try {
      const d = fresh();
      await write([
        { path: join(d, 'a.crt'), data: 'cert', mode: 0o644 },
        { path: join(d, 'a.key'), data: 'key' },
      ]);
      assert.equal(mode(join(d, 'a.crt')), 0o644);
      assert.equal(mode(join(d, 'a.key')), 0o600);
      assert.deepEqual(readdirSync(d).sort(), ['a.crt', 'a.key']);
    } finally {
      process.umask(old);
    }
  });

  it('refuses existing files and symbolic links, changing nothing', async () => {
    const d = fresh();
    writeFileSync(join(d, 'b'), 'old');
    symlinkSync(join(d, 'b'), join(d, 'link'));
    await assert.rejects(
      write([
        { path: join(d, 'a'), data: 'x' },
        { path: join(d, 'b'), data: 'y' },
      ]),
      usage('OUTPUT_EXISTS'),
    );
    await assert.rejects(
      write([{ path: join(d, 'link'), data: 'y' }], { force: true }),
      usage('OUTPUT_SYMLINK'),
    );
    assert.deepEqual(readdirSync(d).sort(), ['b', 'link']);
    assert.equal(readFileSync(join(d, 'b'), 'utf8'), 'old');
  });

  it('rolls back on a failure after some files were moved into place', async () => {
    const d = fresh();
    writeFileSync(join(d, 'a'), 'old a');
    await assert.rejects(
      write(
        [
          { path: join(d, 'a'), data: 'new a' },
          { path: join(d, 'z'), data: 'new z' },
        ],
        {
          force: true,
          beforeCommit: (p) => {
            if (p.endsWith('z')) throw Object.assign(new Error('io'), { code: 'EIO' });
          },
        },
      ),
      usage('OUTPUT_UNWRITABLE'),
    );
    assert.deepEqual(readdirSync(d), ['a']);
    assert.equal(readFileSync(join(d, 'a'), 'utf8'), 'old a');
  });
});
