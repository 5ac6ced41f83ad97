// SPDX-License-Identifier: Apache-2.0
/**
 * PostgreSQL through node-postgres, for several Kivuko processes sharing one database. Every session runs
 * with synchronous_commit=on, so a commit is flushed before it is acknowledged. int8 and numeric come back
 * as bigint; `?` placeholders are numbered for PostgreSQL once per statement text.
 */
import pg from 'pg'
import { runHooks, StoreError, type Row, type SqlClient, type SqlExecutor, type SqlValue } from '../ports.ts'

export interface PostgresOptions {
  readonly url: string
  /** The schema Kivuko's tables live in (created by `migrate`); tests use a fresh one per run. */
  readonly schema?: string
  readonly poolMax?: number
}

const INT8_OID = 20
const NUMERIC_OID = 1700

/** Integer text → bigint; a numeric with a fraction is not money we stored, so it is a bug to read one. */
function parseInteger(text: string): bigint {
  if (!/^-?\d+$/.test(text)) throw new StoreError(`expected an integer from PostgreSQL, got ${text}`)
  return BigInt(text)
}

const TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8_OID || oid === NUMERIC_OID) return parseInteger
    return pg.types.getTypeParser(oid, format as 'text')
  },
}

const numbered = new Map<string, string>()
/** `?` → `$1, $2, …`. Kivuko's SQL never has a `?` inside a literal, so a plain scan is exact. */
function toNumbered(sql: string): string {
  let text = numbered.get(sql)
  if (text === undefined) {
    let n = 0
    text = sql.replace(/\?/g, () => `$${++n}`)
    if (numbered.size > 1_000) numbered.clear()
    numbered.set(sql, text)
  }
  return text
}

function toParam(value: SqlValue): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

function executor(queryable: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    dialect: 'postgres',
    async query<R extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
      const result = await queryable.query(toNumbered(sql), params.map(toParam))
      return result.rows as R[]
    },
    async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
      const result = await queryable.query(toNumbered(sql), params.map(toParam))
      return result.rowCount ?? 0
    },
    async queryMany<R extends Row>(sql: string, paramSets: readonly (readonly SqlValue[])[]): Promise<R[]> {
      const rows: R[] = []
      for (const params of paramSets) rows.push(...((await queryable.query(toNumbered(sql), params.map(toParam))).rows as R[]))
      return rows
    },
    async runMany(sql: string, paramSets: readonly (readonly SqlValue[])[]): Promise<number> {
      let changes = 0
      for (const params of paramSets) changes += (await queryable.query(toNumbered(sql), params.map(toParam))).rowCount ?? 0
      return changes
    },
  }
}

/** PostgreSQL error codes for which running the same transaction again is right. */
const RETRYABLE = new Set(['40001', '40P01', '23505'])

export class PostgresClient implements SqlClient {
  readonly dialect = 'postgres' as const
  readonly sharedWriters = true
  readonly maxParams = 65_535
  readonly #pool: pg.Pool
  readonly #executor: SqlExecutor

  constructor(options: PostgresOptions) {
    const settings = ['-c synchronous_commit=on']
    if (options.schema !== undefined) settings.push(`-c search_path=${quoteIdent(options.schema)}`)
    this.#pool = new pg.Pool({ connectionString: options.url, max: options.poolMax ?? 8, options: settings.join(' '), types: TYPES })
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.#pool.on('error', () => undefined)
    this.#executor = executor(this.#pool)
  }

  query<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.#executor.query<R>(sql, params)
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.#executor.run(sql, params)
  }

  queryMany<R extends Row = Row>(sql: string, paramSets: readonly (readonly SqlValue[])[]): Promise<R[]> {
    return this.#executor.queryMany<R>(sql, paramSets)
  }

  runMany(sql: string, paramSets: readonly (readonly SqlValue[])[]): Promise<number> {
    return this.#executor.runMany(sql, paramSets)
  }

  async exec(script: string): Promise<void> {
    await this.#pool.query(script)
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect()
    let hooks: ((committed: boolean) => void)[] | undefined
    try {
      await client.query('BEGIN')
      const result = await work({ ...executor(client), afterTransaction: (hook) => (hooks ??= []).push(hook) })
      await client.query('COMMIT')
      runHooks(hooks, true)
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      // A COMMIT that failed on the wire may still have committed: hooks hear false, and whatever they
      // stood for must be safe to redo (an outbox message left claimed is retried after its lease).
      runHooks(hooks, false)
      throw error
    } finally {
      client.release()
    }
  }

  /** Other processes may write at any moment: nothing read outside a lock may be cached. */
  async foreignWriteToken(): Promise<string | null> {
    return null
  }

  isRetryable(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code
    return typeof code === 'string' && RETRYABLE.has(code)
  }

  async close(): Promise<void> {
    await this.#pool.end()
  }
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new StoreError(`not a plain PostgreSQL identifier: ${name}`)
  return `"${name}"`
}
