// SPDX-License-Identifier: Apache-2.0
/**
 * Chooses the adapter from a store location: a PostgreSQL URL (postgres:// or postgresql://, optionally
 * with ?schema=NAME), or else a SQLite file path (`sqlite:` prefix optional; `:memory:` for tests).
 */
import { PostgresClient, quoteIdent } from './postgres/postgres-client.ts'
import { SqliteClient } from './sqlite/sqlite-client.ts'
import type { SqlClient } from './ports.ts'

export type Store = SqlClient & { exec(script: string): Promise<void> }

export interface StoreLocation {
  readonly kind: 'sqlite' | 'postgres'
  readonly location: string
}

export function parseStoreLocation(text: string): StoreLocation {
  if (/^postgres(ql)?:\/\//.test(text)) return { kind: 'postgres', location: text }
  return { kind: 'sqlite', location: text.replace(/^sqlite:/, '') }
}

export async function openStore(text: string, options: { poolMax?: number } = {}): Promise<Store> {
  const where = parseStoreLocation(text)
  if (where.kind === 'sqlite') return new SqliteClient({ path: where.location })
  const url = new URL(where.location)
  const schema = url.searchParams.get('schema') ?? undefined
  url.searchParams.delete('schema')
  if (schema !== undefined) {
    // The schema must exist before sessions put it on their search_path.
    const bootstrap = new PostgresClient({ url: url.toString(), poolMax: 1 })
    try {
      await bootstrap.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`)
    } finally {
      await bootstrap.close()
    }
  }
  return new PostgresClient({ url: url.toString(), schema, poolMax: options.poolMax })
}
