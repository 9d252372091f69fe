/**
 * A small disk for one service's database: a tmpfs the run mounts, a tablespace on it, and the
 * service's database created there before the runtime starts (the runtime adopts it). Filling the
 * filesystem makes every write that needs a new page fail with ENOSPC (SQLSTATE 53100) while reads
 * go on, as a full RDS volume does; the write-ahead log stays on the cluster's own disk, so
 * PostgreSQL itself keeps running. Needs root (mount); everything is undone by close().
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);

export interface SmallDisk {
  /** Fills the filesystem to the last page; returns the bytes the filler took. */
  fill(): number;
  /** Removes the filler: the space is back. */
  free(): void;
  close(): Promise<void>;
}

/** Room for the database through a whole fault run, and little enough to fill in a moment. */
const SIZE_MB = 256;

export async function placeDatabaseOnSmallDisk(opts: { databaseUrl: string; database: string }): Promise<SmallDisk> {
  if (process.getuid?.() !== 0) throw new Error('the payment-disk-full fault mounts a small filesystem and needs root; run as root or leave it out of --faults');
  const id = randomBytes(4).toString('hex');
  const dir = path.join(os.tmpdir(), `eventflow-disk-${id}`);
  mkdirSync(dir, { recursive: true });
  await exec('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_MB}m,mode=0755`, `eventflow-disk-${id}`, dir]);
  let mounted = true;
  const filler = path.join(dir, 'filler');
  const close = async () => {
    rmSync(filler, { force: true });
    // Lazy: PostgreSQL (stopped later, or already) may still hold files open on it.
    if (mounted) await exec('umount', ['-l', dir]).catch(() => undefined);
    mounted = false;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pgDir = path.join(dir, 'pg');
    mkdirSync(pgDir);
    const [uid, gid] = await Promise.all([exec('id', ['-u', 'postgres']), exec('id', ['-g', 'postgres'])]);
    await chown(pgDir, Number(uid.stdout), Number(gid.stdout));
    const admin = new pg.Client({ connectionString: opts.databaseUrl });
    await admin.connect();
    try {
      const tablespace = `eventflow_small_${id}`;
      await admin.query(`CREATE TABLESPACE "${tablespace}" LOCATION '${pgDir}'`);
      await admin.query(`CREATE DATABASE "${opts.database.replace(/"/g, '""')}" TABLESPACE "${tablespace}"`);
    } finally {
      await admin.end();
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    fill() {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        // Big writes until the first refusal, then page-sized ones: tmpfs gives out whole pages.
        for (const size of [1 << 20, 4096]) {
          const chunk = Buffer.alloc(size);
          for (;;) {
            try {
              written += writeSync(fd, chunk);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    close,
  };
}
