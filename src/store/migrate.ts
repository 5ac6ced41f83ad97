// SPDX-License-Identifier: Apache-2.0
/**
 * Plain SQL migrations, one folder per dialect, applied in file-name order, each in its own transaction and
 * recorded in kivuko_migration. On PostgreSQL an advisory lock lets several processes start at once.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SqlClient } from './ports.ts'

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations')
/** An arbitrary constant that names Kivuko's migration lock among PostgreSQL advisory locks. */
const MIGRATION_LOCK_KEY = 4_815_162_342

export interface Migration {
  readonly version: string
  readonly sql: string
}

export function listMigrations(dialect: SqlClient['dialect']): Migration[] {
  const dir = join(MIGRATIONS_DIR, dialect)
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => ({ version: name.replace(/\.sql$/, ''), sql: readFileSync(join(dir, name), 'utf8') }))
}

/** Applies every migration not yet applied (up to and including `upTo`, for upgrade tests); returns the versions it applied. */
export async function migrate(client: SqlClient & { exec(script: string): Promise<void> }, options: { upTo?: string } = {}): Promise<string[]> {
  const createTable = 'CREATE TABLE IF NOT EXISTS kivuko_migration (version TEXT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)'
  await client.run(createTable)
  const applied: string[] = []
  for (const migration of listMigrations(client.dialect)) {
    if (options.upTo !== undefined && migration.version > options.upTo) break
    // SQLite alters a table's constraints only by rebuilding it, which its documented procedure does with
    // foreign keys off (a pragma that cannot change inside a transaction) and checked before the commit.
    const foreignKeysOff = client.dialect === 'sqlite' && migration.sql.includes(FOREIGN_KEYS_OFF)
    if (foreignKeysOff) await client.exec('PRAGMA foreign_keys = OFF')
    try {
      const done = await client.transaction(async (tx) => {
        if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [BigInt(MIGRATION_LOCK_KEY)])
        const rows = await tx.query('SELECT version FROM kivuko_migration WHERE version = ?', [migration.version])
        if (rows.length > 0) return false
        for (const statement of splitStatements(migration.sql)) await tx.run(statement)
        if (foreignKeysOff) {
          const broken = await tx.query('PRAGMA foreign_key_check')
          if (broken.length > 0) throw new Error(`migration ${migration.version} leaves ${broken.length} broken foreign keys`)
        }
        await tx.run('INSERT INTO kivuko_migration (version, applied_at_ms) VALUES (?, ?)', [migration.version, BigInt(Date.now())])
        return true
      })
      if (done) applied.push(migration.version)
    } finally {
      if (foreignKeysOff) await client.exec('PRAGMA foreign_keys = ON')
    }
  }
  return applied
}

/** A SQLite migration that rebuilds a table says so with this line. */
const FOREIGN_KEYS_OFF = '-- kivuko: foreign keys off'

/** Our migration files hold plain statements separated by `;` at the end of a line, with `--` comments. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0)
}
