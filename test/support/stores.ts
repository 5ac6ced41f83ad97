// SPDX-License-Identifier: Apache-2.0
/**
 * The stores every contract suite runs against: SQLite always, PostgreSQL when KIVUKO_TEST_POSTGRES_URL is
 * given (the suite says so when it is not). Each PostgreSQL store lives in a fresh schema, dropped on close.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore, type Store } from '../../src/store/open-store.ts'
import { migrate } from '../../src/store/migrate.ts'
import { PostgresClient, quoteIdent } from '../../src/store/postgres/postgres-client.ts'

export const POSTGRES_URL = process.env.KIVUKO_TEST_POSTGRES_URL || undefined

export interface TestStore {
  readonly store: Store
  /** Where the store lives, in the form `kivuko --store` takes: for a second process or a restart. */
  readonly location: string
  close(): Promise<void>
}

export interface StoreKind {
  readonly name: 'sqlite' | 'postgres'
  /** Why this kind is skipped here, or undefined when it runs. */
  readonly skip: string | undefined
  open(options?: { file?: boolean }): Promise<TestStore>
}

const sqliteKind: StoreKind = {
  name: 'sqlite',
  skip: undefined,
  async open(options = {}) {
    // A real file by default: WAL and fsync behave as in production. ':memory:' only when asked.
    const dir = options.file === false ? null : mkdtempSync(join(tmpdir(), 'kivuko-test-'))
    const location = dir === null ? ':memory:' : join(dir, 'kivuko.db')
    const store = await openStore(location)
    await migrate(store)
    return {
      store,
      location,
      async close() {
        await store.close()
        if (dir !== null) rmSync(dir, { recursive: true, force: true })
      },
    }
  },
}

const postgresKind: StoreKind = {
  name: 'postgres',
  skip: POSTGRES_URL === undefined ? 'KIVUKO_TEST_POSTGRES_URL is not set: PostgreSQL suites not run' : undefined,
  async open() {
    const url = POSTGRES_URL as string
    const schema = `kivuko_test_${randomBytes(6).toString('hex')}`
    const location = `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`
    const store = await openStore(location)
    await migrate(store)
    return {
      store,
      location,
      async close() {
        await store.close()
        const admin = new PostgresClient({ url, poolMax: 1 })
        try {
          await admin.run(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)
        } finally {
          await admin.close()
        }
      },
    }
  },
}

export const STORE_KINDS: readonly StoreKind[] = [sqliteKind, postgresKind]

if (POSTGRES_URL === undefined && process.env.KIVUKO_TEST_QUIET !== '1') {
  process.stderr.write('note: KIVUKO_TEST_POSTGRES_URL is not set, so the PostgreSQL suites are skipped\n')
}
