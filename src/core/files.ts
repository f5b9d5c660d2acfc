// Safe, atomic file output for keys, certificates and token caches.
//
// Every file is written to a temporary file in the target's own directory (exclusive create, mode
// set with fchmod so the umask cannot widen it), synced, and only then moved into place: after a
// crash a target holds its old content or its new content, never a part. (The directory itself is
// not synced: a crash right after a write may lose that write, never corrupt a file.) A set of
// files is all-or-nothing: every temporary file is staged before the first one is moved, and a
// failure at any point removes the temporary files, puts back what was replaced and leaves the
// old files untouched. Nothing is replaced without `force`, and nothing is written through a
// symbolic link.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmdirSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { errnoCode, isMtlsOAuthError, MtlsOAuthError, usageError, whyUnreadable } from './errors.ts';
import { fileLimitError, MAX_INPUT_BYTES } from './limits.ts';
import { holdSignals } from './signal-guard.ts';

export interface OutputFile {
  path: string;
  data: string | Uint8Array;
  /** Permission bits. Default 0o600: anything secret must never depend on the caller remembering. */
  mode?: number;
}

export interface WriteOptions {
  /** Replace existing files (never symbolic links). */
  force?: boolean;
  /** Mode for directories this call creates (default 0o755). */
  dirMode?: number;
  /** The hint for OUTPUT_EXISTS (default: use --force). */
  existsHint?: string;
  /** Called before each staged file is moved into place (tests inject failures here). */
  beforeCommit?: (path: string) => void;
}

const DEFAULT_EXISTS_HINT = 'use --force to replace, or write somewhere else';

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    if (errnoCode(e) === 'ENOTDIR') throw notADirectory(path);
    // EACCES here: a folder on the way cannot be searched (or ELOOP, ENAMETOOLONG...).
    throw unwritable(path, e);
  }
}

/** ENOTDIR: names the part of the path that is a file. */
function notADirectory(path: string): MtlsOAuthError {
  let d = dirname(path);
  while (dirname(d) !== d) {
    try {
      if (!statSync(d).isDirectory()) break;
    } catch {}
    d = dirname(d);
  }
  return usageError('OUTPUT_UNWRITABLE', `cannot write ${path}: ${d} is not a directory`, {
    hint: 'choose another output directory',
  });
}

/** A write failure as a usage error, in words ("cannot write PATH: permission denied"). */
export function unwritable(path: string, e: unknown): MtlsOAuthError {
  if (e instanceof MtlsOAuthError) return e;
  const code = errnoCode(e);
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'ENOSPC'
          ? 'no space left on the device'
          : code === 'EDQUOT'
            ? 'disk quota exceeded'
            : code === 'ENOTDIR' || code === 'EEXIST'
              ? 'a part of the path is not a directory'
              : code === 'EISDIR'
                ? 'it is a directory'
                : code === 'ENOENT'
                  ? 'the directory cannot be created there'
                  : ((e as Error)?.message ?? String(e));
  return usageError('OUTPUT_UNWRITABLE', `cannot write ${path}: ${why}`, {
    hint: 'choose another output directory, or fix its permissions',
    cause: e,
    details: code ? { errno: code } : undefined,
  });
}

/** Refusals that need no write: symbolic links, directories, and existing files without force. */
export function checkOutputs(paths: string[], opts: WriteOptions = {}): void {
  const existing: string[] = [];
  for (const path of paths) {
    const st = lstatOrUndefined(path);
    if (!st) continue;
    if (st.isSymbolicLink()) {
      throw usageError('OUTPUT_SYMLINK', `${path} is a symbolic link; refusing to write through it`, {
        hint: 'remove the link or write somewhere else (keys are never written through links)',
      });
    }
    if (st.isDirectory()) {
      throw usageError('OUTPUT_IS_DIRECTORY', `${path} is a directory`, {
        hint: 'remove it or write somewhere else',
      });
    }
    if (!st.isFile()) {
      throw usageError('OUTPUT_NOT_FILE', `${path} exists and is not a regular file`, {
        hint: 'write somewhere else',
      });
    }
    existing.push(path);
  }
  if (existing.length && !opts.force) {
    const list = existing.join(', ');
    throw usageError(
      'OUTPUT_EXISTS',
      `${list} already ${existing.length === 1 ? 'exists' : 'exist'}; nothing was written`,
      { hint: opts.existsHint ?? DEFAULT_EXISTS_HINT, details: { existing } },
    );
  }
}

/** mkdir -p; returns the directories it created, outermost first (for undo). */
function ensureDir(dir: string, mode: number): string[] {
  const st = lstatOrUndefined(dir);
  if (st) {
    // A symbolic link to a directory is the user's choice of location; follow it.
    if (st.isDirectory() || (st.isSymbolicLink() && isDirectory(dir))) return [];
    throw usageError('OUTPUT_UNWRITABLE', `cannot write to ${dir}: it is not a directory`, {
      hint: 'choose another output directory',
    });
  }
  const missing: string[] = [];
  let d = resolve(dir);
  while (!lstatOrUndefined(d)) {
    missing.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  // One level at a time: mkdir's recursive mode loops forever under /proc on Node 20.
  const created: string[] = [];
  try {
    for (const m of missing) {
      mkdirSync(m, { mode });
      created.push(m);
    }
  } catch (e) {
    removeEmptyDirs(created);
    throw unwritable(dir, e);
  }
  return created;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function removeEmptyDirs(dirs: string[]): void {
  for (const d of [...dirs].reverse()) {
    try {
      rmdirSync(d);
    } catch {}
  }
}

function tempName(target: string, tag: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.${tag}`);
}

/** Writes one temporary file next to the target: exclusive create, exact mode. Returns it open. */
function stage(file: OutputFile): { tmp: string; fd: number } {
  const tmp = tempName(file.path, 'tmp');
  const mode = file.mode ?? 0o600;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    fchmodSync(fd, mode); // the umask applies to openSync's mode; fchmod does not care
    const buf = typeof file.data === 'string' ? Buffer.from(file.data, 'utf8') : file.data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    return { tmp, fd };
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {}
    }
    try {
      unlinkSync(tmp);
    } catch {}
    throw unwritable(file.path, e);
  }
}

interface Committed {
  target: string;
  /** A hard link to the file that was replaced, to restore on failure. */
  backup?: string;
}

/** Moves a staged file into place without ever replacing an existing file (unless force). */
function commit(tmp: string, target: string, opts: WriteOptions): Committed {
  const st = lstatOrUndefined(target);
  if (st?.isSymbolicLink() || (st && !st.isFile())) checkOutputs([target], opts);
  if (st && !opts.force) checkOutputs([target], opts);
  if (!st) {
    // link() fails with EEXIST if the target appeared since the check: no race can overwrite it.
    try {
      linkSync(tmp, target);
      unlinkSync(tmp);
      return { target };
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EEXIST')
        checkOutputs([target], opts); // appeared meanwhile: refused unless force
      else if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw e;
      // File systems without hard links (or force): rename.
      renameSync(tmp, target);
      return { target };
    }
  }
  // force: keep the old file under a hard link until every new file is in place.
  let backup: string | undefined = tempName(target, 'bak');
  try {
    linkSync(target, backup);
  } catch {
    backup = undefined;
  }
  renameSync(tmp, target); // rename replaces a symlink itself, never its target
  return { target, backup };
}

/** One all-or-nothing write of a set of files: check, stage, flush, commit; or roll back. */
class WriteJob {
  private readonly dirs: string[];
  private readonly createdDirs: string[] = [];
  private readonly staged: Array<{ tmp: string; fd?: number }> = [];
  private readonly committed: Committed[] = [];

  constructor(
    private readonly files: OutputFile[],
    private readonly opts: WriteOptions,
  ) {
    const targets = files.map((f) => f.path);
    if (new Set(targets.map((t) => resolve(t))).size !== targets.length) {
      throw new Error('writeFilesAtomic: the same path is given twice');
    }
    this.dirs = [...new Set(targets.map((t) => dirname(t)))];
    // Refuse what can be refused before creating anything.
    for (const d of this.dirs) {
      const st = lstatOrUndefined(d);
      if (st && !st.isDirectory() && !(st.isSymbolicLink() && isDirectory(d))) {
        throw usageError('OUTPUT_UNWRITABLE', `cannot write to ${d}: it is not a directory`, {
          hint: 'choose another output directory',
        });
      }
    }
    checkOutputs(targets, opts);
  }

  /** Directories, then every temporary file written (not yet synced). */
  stage(): number[] {
    for (const d of this.dirs) this.createdDirs.push(...ensureDir(d, this.opts.dirMode ?? 0o755));
    for (const f of this.files) this.staged.push(stage(f));
    return this.staged.map((s) => s.fd as number);
  }

  /** After the data is on disk: close the temporary files and move each into place. */
  commit(): void {
    for (const s of this.staged) {
      closeSync(s.fd as number);
      s.fd = undefined;
    }
    for (let i = 0; i < this.files.length; i++) {
      const path = this.files[i].path;
      try {
        this.opts.beforeCommit?.(path);
        this.committed.push(commit(this.staged[i].tmp, path, this.opts));
      } catch (e) {
        throw unwritable(path, e);
      }
    }
    for (const c of this.committed) {
      if (c.backup) {
        try {
          unlinkSync(c.backup);
        } catch {}
      }
    }
  }

  /** Removes temporary files, restores replaced files, removes created directories. */
  rollback(e: unknown): MtlsOAuthError {
    for (const s of this.staged) {
      try {
        if (s.fd !== undefined) closeSync(s.fd);
      } catch {}
      try {
        unlinkSync(s.tmp);
      } catch {}
    }
    for (const c of [...this.committed].reverse()) {
      try {
        if (c.backup) renameSync(c.backup, c.target);
        else unlinkSync(c.target);
      } catch {}
    }
    removeEmptyDirs(this.createdDirs);
    return unwritable(this.dirs[0] ?? '.', e);
  }
}

/**
 * Writes a set of files all-or-nothing. Refuses (before writing anything) symbolic links,
 * directories, and existing files unless `force`. Creates missing directories. On any failure,
 * everything this call wrote is removed and replaced files are restored; the error is a usage
 * MtlsOAuthError (OUTPUT_EXISTS, OUTPUT_SYMLINK, OUTPUT_UNWRITABLE, ...).
 */
export function writeFilesAtomic(files: OutputFile[], opts: WriteOptions = {}): void {
  const job = new WriteJob(files, opts);
  // Ctrl-C or SIGTERM now would leave half a set: they wait until it is whole (signal-guard.ts).
  const release = holdSignals();
  try {
    for (const fd of job.stage()) fsyncSync(fd);
    job.commit();
  } catch (e) {
    throw job.rollback(e);
  } finally {
    release();
  }
}

/**
 * writeFilesAtomic, with the files synced to disk in parallel: one journal commit for the set
 * instead of one per file (several times faster on a busy disk).
 */
export async function writeFilesAtomicAsync(files: OutputFile[], opts: WriteOptions = {}): Promise<void> {
  const job = new WriteJob(files, opts);
  const release = holdSignals();
  try {
    await Promise.all(job.stage().map((fd) => fsyncAsync(fd)));
    job.commit();
  } catch (e) {
    throw job.rollback(e);
  } finally {
    release();
  }
}

const fsyncAsync = (fd: number) =>
  new Promise<void>((res, rej) => {
    fsync(fd, (e) => (e ? rej(e) : res()));
  });

/** Writes one file atomically (see writeFilesAtomic). */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: WriteOptions & { mode?: number } = {},
) {
  writeFilesAtomic([{ path, data, mode: opts.mode }], opts);
}

/**
 * Reads a file the user named, as a usage error (INPUT_UNREADABLE) when it is missing or
 * unreadable. `what` names it in the message: "CA certificate", "the private key";
 * `missingHint` says where a missing file comes from.
 */
export function readInputFile(path: string, what: string, missingHint = 'check the path'): Buffer {
  let fd: number | undefined;
  try {
    // Read at most one byte past the limit (limits.ts): a huge file, or /dev/zero, is refused
    // without being read whole.
    fd = openSync(path, 'r');
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      size += got;
      if (size > MAX_INPUT_BYTES)
        throw fileLimitError(`${what} ${path}`, 'its size', undefined, MAX_INPUT_BYTES, 'bytes');
    }
    return Buffer.concat(chunks, size);
  } catch (e) {
    if (isMtlsOAuthError(e)) throw e;
    const code = errnoCode(e);
    throw usageError('INPUT_UNREADABLE', `cannot read ${what} ${path}: ${whyUnreadable(e)}`, {
      hint: code === 'EACCES' || code === 'EPERM' ? 'make the file readable by this user' : missingHint,
      cause: e,
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
