// Running the CLI as an unprivileged user, for tests where root would ignore permissions.
// When the checkout is not readable by `nobody` (CI may clone under a private folder), the built
// CLI (bin/, dist/, package.json: dist/ is self-contained) is copied to a world-readable folder.

import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './cli.ts';

export const NOBODY = 65534;
export const isRoot = () => process.getuid?.() === 0;

let copy: { bin: string; dir?: string } | undefined;

function openUp(path: string): void {
  chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) openUp(join(path, e));
}

/** The path of a bin/mtls-oauth that `nobody` can run (the checkout's own when it can). */
export function binForNobody(): string {
  if (copy) return copy.bin;
  const probe = spawnSync(process.execPath, [BIN, '--version'], {
    uid: NOBODY,
    gid: NOBODY,
    encoding: 'utf8',
  });
  if (probe.status === 0) {
    copy = { bin: BIN };
    return BIN;
  }
  const root = join(BIN, '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-nobody-'));
  for (const part of ['bin', 'dist', 'package.json'])
    cpSync(join(root, part), join(dir, part), { recursive: true });
  openUp(dir);
  chmodSync(join(dir, 'bin', 'mtls-oauth'), 0o755);
  copy = { bin: join(dir, 'bin', 'mtls-oauth'), dir };
  return copy.bin;
}

/** Removes the copy, if one was made (call from after()). */
export function removeNobodyCopy(): void {
  if (copy?.dir) rmSync(copy.dir, { recursive: true, force: true });
  copy = undefined;
}
