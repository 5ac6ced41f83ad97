// SPDX-License-Identifier: Apache-2.0
/**
 * The store port. Kivuko's repositories speak one portable subset of SQL (`?` placeholders, CAST, VALUES
 * lists, UPDATE … FROM) through this small client, so each repository is written once and runs on both
 * adapters; the few dialect differences (row locks, SKIP LOCKED) are switched on `dialect`. No driver type
 * crosses this boundary: integers come back as bigint on both adapters.
 */
export type SqlValue = string | bigint | number | null

export type Row = Record<string, SqlValue>

export interface SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres'
  /** Runs a statement and returns its rows. INTEGER/BIGINT/NUMERIC columns come back as bigint. */
  query<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>
  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>
  /**
   * Runs one statement once per parameter set, in order, and returns all rows. On SQLite that is a tight
   * in-process loop with one promise for the lot; on PostgreSQL it is one round trip per set, so repositories
   * prefer IN lists there.
   */
  queryMany<R extends Row = Row>(sql: string, paramSets: readonly (readonly SqlValue[])[]): Promise<R[]>
  /** Runs one statement once per parameter set, in order; returns the total rows changed. */
  runMany(sql: string, paramSets: readonly (readonly SqlValue[])[]): Promise<number>
  /**
   * Optional: runMany over a flat list, `width` values per row, without a list per row (the ledger's writer
   * thread, where thousands of account updates per commit made those lists a few % of its time).
   */
  runFlat?(sql: string, values: readonly SqlValue[], width: number): Promise<number>
  /**
   * Present on the executor a transaction's work is given (absent elsewhere): `hook` runs once that
   * transaction has ended, with true after its COMMIT is durable and false when it (or, inside a group
   * commit, its own part) rolled back. Lets a caller act on what it wrote only once it is on disk, e.g. hand
   * a just-written message straight to a sender. Hooks run synchronously, in registration order, before the
   * transaction's promise settles; they should be quick and must not throw.
   */
  afterTransaction?(hook: (committed: boolean) => void): void
}

export interface SqlClient extends SqlExecutor {
  /**
   * Runs `work` in one transaction that is durable on disk before the promise resolves. The work must use
   * the executor it is given. On PostgreSQL, concurrent writers may make the transaction fail with a
   * conflict; `isRetryable` tells the caller when running the same work again is safe and right.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>
  isRetryable(error: unknown): boolean
  /** True when other processes may write the same database (PostgreSQL): reads must then lock. */
  readonly sharedWriters: boolean
  /**
   * A token that changes whenever another connection has committed to the database, or null where that
   * cannot be known cheaply. A process that caches rows keeps them only while the token stays the same.
   */
  foreignWriteToken(tx: SqlExecutor): Promise<string | null>
  /** Largest number of bound parameters one statement may carry. */
  readonly maxParams: number
  close(): Promise<void>
}

/** The adapters' common way to say what failed: a message naming the store and the statement. */
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'StoreError'
  }
}

/** Runs a transaction's afterTransaction hooks; one that throws is reported and does not stop the others. */
export function runHooks(hooks: readonly ((committed: boolean) => void)[] | undefined, committed: boolean): void {
  if (hooks === undefined) return
  for (const hook of hooks) {
    try {
      hook(committed)
    } catch (error) {
      process.emitWarning(`a transaction hook failed: ${error instanceof Error ? error.message : String(error)}`, { code: 'KIVUKO_STORE' })
    }
  }
}
