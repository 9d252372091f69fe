import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ServiceName } from '../config';
import { LAMBDA_ENV } from '../env';

/** Creates the database if it does not exist yet (needs a role allowed to create databases). */
export async function ensureDatabase(serviceUrl: string, opts: { tls?: boolean } = {}): Promise<void> {
  const url = new URL(serviceUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), ssl: opts.tls ? { rejectUnauthorized: true } : undefined });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}

export interface Migration {
  id: string;
  sql: string;
}

/** Reads the .sql files of the given folders, in folder order then file-name order. */
export async function loadMigrations(dirs: string[]): Promise<Migration[]> {
  const out: Migration[] = [];
  for (const dir of dirs) {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    for (const file of files) out.push({ id: file, sql: await readFile(path.join(dir, file), 'utf8') });
  }
  return out;
}

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock so that
 * concurrent runners (two dev processes, a deploy and a test) apply each file once.
 */
export async function applyMigrations(client: pg.ClientBase, migrations: Migration[]): Promise<string[]> {
  const applied: string[] = [];
  // The databases bound every statement (0000_messaging_timeouts.sql); a migration may need longer.
  await client.query('SET statement_timeout = 0');
  await client.query('SELECT pg_advisory_lock(7246011)');
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ id: string }>('SELECT id FROM schema_migrations');
    const done = new Set(rows.map((r) => r.id));
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        // Keep the SQLSTATE: a server going away mid-migration is worth retrying, a bad migration is not.
        throw Object.assign(new Error(`migration ${m.id} failed: ${(err as Error).message}`, { cause: err }), { code: (err as { code?: string }).code });
      }
      applied.push(m.id);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(7246011)');
  }
  return applied;
}

/**
 * Where migrations live: the repository root locally; a Lambda bundle sets MIGRATIONS_ROOT to the
 * folder its build copied them into (same layout).
 */
function migrationsRoot(): string {
  return process.env[LAMBDA_ENV.migrationsRoot] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
}

/** The messaging tables every service has, then the service's own migrations. */
export function migrationDirs(service: ServiceName, root = migrationsRoot()): string[] {
  return [path.join(root, 'shared/db/migrations'), path.join(root, 'functions', service, 'migrations')];
}

/** Creates a service's database if needed and brings its schema up to date. */
export async function migrateService(service: ServiceName, databaseUrl: string, opts: { tls?: boolean } = {}) {
  await ensureDatabase(databaseUrl, opts);
  const client = new pg.Client({ connectionString: databaseUrl, ssl: opts.tls ? { rejectUnauthorized: true } : undefined });
  await client.connect();
  try {
    return await applyMigrations(client, await loadMigrations(migrationDirs(service)));
  } finally {
    await client.end();
  }
}
