// SPDX-License-Identifier: Apache-2.0
/**
 * The embedded default: SQLite through Node's built-in node:sqlite. One file, WAL journal, and a commit is
 * on disk (the WAL fsynced) before it is acknowledged. Integers are read as bigint. node:sqlite is
 * synchronous, so one connection serves one writer at a time: every statement, inside or outside a
 * transaction, goes through one queue, or another task's statements would run inside an open transaction
 * between its awaits.
 *
 * The fsync is off the event loop. With synchronous=FULL, SQLite fsyncs the WAL inside COMMIT, and the
 * process could do nothing else meanwhile (under bench:e2e ~15 % of the switch's main thread). This
 * client's connection runs with synchronous=NORMAL, where COMMIT only writes the WAL, and then fdatasyncs
 * the WAL file on libuv's thread pool; a transaction's promise settles, and its afterTransaction hooks run,
 * only once that sync is done, so nothing is acknowledged before it is on disk, exactly as with FULL. One
 * sync covers every commit made before it started, so the groups that commit while one is under way share
 * the next. A read outside a transaction also waits until what it may have seen is on disk. (NORMAL keeps
 * SQLite's own syncs around checkpoints; a process crash loses nothing written, only a power cut could lose
 * commits, and those were never acknowledged.) ':memory:' has nothing to sync.
 */
import { mkdirSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { runHooks, StoreError, type Row, type SqlClient, type SqlExecutor, type SqlValue } from '../ports.ts'

export interface SqliteOptions {
  /** A file path, or ':memory:' for tests. */
  readonly path: string
  /** How long to wait for another process's lock before failing (ms). */
  readonly busyTimeoutMs?: number
}

const STATEMENT_CACHE_MAX = 512
const DEFAULT_BUSY_TIMEOUT_MS = 5_000

/**
 * Opens a connection the way every Kivuko connection is opened: WAL, synchronous=FULL (a commit is on disk
 * before it is acknowledged), foreign keys on, integers as bigint. The ledger's writer thread opens its
 * own connection with this too.
 */
export function openSqliteDatabase(path: string, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new DatabaseSync(path, { readBigInts: true, timeout: busyTimeoutMs })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec('PRAGMA foreign_keys = ON')
  return db
}
/** Most transactions in one group commit: bounds how long one group holds the writer. */
const GROUP_MAX = 512

export class SqliteClient implements SqlClient {
  readonly dialect = 'sqlite' as const
  readonly sharedWriters = false
  readonly maxParams = 32_766
  /** The database file, or null for ':memory:' (which no other connection can open). */
  readonly path: string | null
  readonly #db: DatabaseSync
  readonly #onClose = new Set<() => Promise<void>>()
  readonly #statements = new Map<string, StatementSync>()
  #tail: Promise<unknown> = Promise.resolve()
  #pending: { work: (tx: SqlExecutor) => Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = []
  #groupScheduled = false
  readonly #executor: SqlExecutor
  readonly #busyTimeoutMs: number
  /**
   * The transaction-control statements, compiled once: db.exec compiles its text on every call, which for
   * SAVEPOINT/RELEASE per transaction and COMMIT per group was a few % of a DFSP's main thread. (PRAGMAs stay
   * with exec: SQLite runs some of them when they are compiled, so a prepared one does not reliably apply.)
   */
  readonly #control: Record<'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', StatementSync>
  /** Commits made on this connection, and how many of them are known to be on disk. */
  #commits = 0
  #synced = 0
  /** Each waits for the commits made before it asked (upTo) to be on disk. */
  #syncWaiters: { readonly upTo: number; readonly resolve: () => void; readonly reject: (error: unknown) => void }[] = []
  #syncRunning = false
  #walFile: FileHandle | null = null

  constructor(options: SqliteOptions) {
    this.path = options.path === ':memory:' ? null : options.path
    this.#busyTimeoutMs = Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)
    this.#db = openSqliteDatabase(options.path, this.#busyTimeoutMs)
    // COMMIT writes the WAL; #durable() syncs it off the event loop before anything is acknowledged.
    if (this.path !== null) this.#db.exec('PRAGMA synchronous = NORMAL')
    const control = (sql: string): StatementSync => this.#db.prepare(sql)
    this.#control = {
      commit: control('COMMIT'),
      rollback: control('ROLLBACK'),
      savepoint: control('SAVEPOINT kivuko_work'),
      release: control('RELEASE kivuko_work'),
      rollbackTo: control('ROLLBACK TO kivuko_work'),
    }
    this.#executor = {
      dialect: 'sqlite',
      query: async <R extends Row>(sql: string, params: readonly SqlValue[] = []) => this.#all<R>(sql, params),
      run: async (sql: string, params: readonly SqlValue[] = []) => this.#run(sql, params),
      queryMany: async <R extends Row>(sql: string, paramSets: readonly (readonly SqlValue[])[]) => this.#allMany<R>(sql, paramSets),
      runMany: async (sql: string, paramSets: readonly (readonly SqlValue[])[]) => this.#runMany(sql, paramSets),
    }
  }

  query<R extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.#serial(async () => this.#all<R>(sql, params)).then((rows) => this.#afterDurable(rows))
  }

  /** A write outside an explicit transaction is a transaction of its own, so it joins a group commit. */
  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.transaction(async () => this.#run(sql, params))
  }

  queryMany<R extends Row = Row>(sql: string, paramSets: readonly (readonly SqlValue[])[]): Promise<R[]> {
    return this.#serial(async () => this.#allMany<R>(sql, paramSets)).then((rows) => this.#afterDurable(rows))
  }

  runMany(sql: string, paramSets: readonly (readonly SqlValue[])[]): Promise<number> {
    return this.transaction(async () => this.#runMany(sql, paramSets))
  }

  /**
   * Group commit for every writer of the process: transactions that arrive while one is being applied wait,
   * then run together inside one BEGIN … COMMIT, each in its own SAVEPOINT so that a failing one rolls back
   * alone. Each promise settles only once the group's COMMIT is on disk; if the COMMIT or the sync fails,
   * all of them fail. The next group may run while this one's sync is under way. The work must not wait on
   * another transaction of this client (it would wait for itself).
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (!this.#groupScheduled) {
        this.#groupScheduled = true
        void this.#serial(() => this.#afterIo())
      }
    })
  }

  /**
   * A group starts one turn of the event loop later, so that every request whose bytes arrived during the
   * last group (which blocks the loop: node:sqlite is synchronous) joins it instead of paying its own commit.
   */
  #afterIo(): Promise<void> {
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#runGroup())
  }

  async #runGroup(): Promise<void> {
    this.#groupScheduled = false
    if (this.#pending.length === 0) return
    const began = await this.#beginImmediate()
    // Taken after the lock: transactions that arrived while another connection held it join this group.
    const group = this.#pending.splice(0, GROUP_MAX)
    if (this.#pending.length > 0) {
      this.#groupScheduled = true
      void this.#serial(() => this.#afterIo())
    }
    if (began !== true) {
      for (const item of group) item.reject(began.error)
      return
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = []
    // Hooks of the works that succeeded, by group position; a work that rolls back hears of it at once.
    const hooks: (((committed: boolean) => void)[] | undefined)[] = []
    const control = this.#control
    // A work alone in its group needs no savepoint: if it fails, the whole transaction is rolled back.
    const alone = group.length === 1
    for (const item of group) {
      if (!alone) control.savepoint.run()
      let itemHooks: ((committed: boolean) => void)[] | undefined
      const executor: SqlExecutor = { ...this.#executor, afterTransaction: (hook) => (itemHooks ??= []).push(hook) }
      try {
        const value = await item.work(executor)
        if (!alone) control.release.run()
        outcomes.push({ ok: true, value })
        hooks.push(itemHooks)
      } catch (error) {
        runHooks(itemHooks, false)
        if (alone) {
          control.rollback.run()
          item.reject(error)
          return
        }
        control.rollbackTo.run()
        control.release.run()
        outcomes.push({ ok: false, error })
        hooks.push(undefined)
      }
    }
    try {
      control.commit.run()
    } catch (error) {
      if (this.#db.isTransaction) control.rollback.run()
      for (const itemHooks of hooks) runHooks(itemHooks, false)
      for (const item of group) item.reject(error)
      return
    }
    this.#commits += 1
    // Not awaited: the next group may run while this one's WAL is synced on the thread pool.
    void this.#durable().then(
      () => {
        group.forEach((item, i) => {
          runHooks(hooks[i], true)
          const outcome = outcomes[i] as { ok: true; value: unknown } | { ok: false; error: unknown }
          if (outcome.ok) item.resolve(outcome.value)
          else item.reject(outcome.error)
        })
      },
      (error: unknown) => {
        // Whether the commit is on disk is unknown: nobody may act on it, as after a failed COMMIT.
        const failure = new StoreError(`sqlite could not sync its WAL after a commit: ${(error as Error).message}`, { cause: error })
        for (const itemHooks of hooks) runHooks(itemHooks, false)
        for (const item of group) item.reject(failure)
      },
    )
  }

  /** `value` once every commit made so far is on disk. */
  #afterDurable<T>(value: T): T | Promise<T> {
    return this.#synced >= this.#commits ? value : this.#durable().then(() => value)
  }

  /**
   * Resolves once every commit made so far is on disk: an fdatasync of the WAL on the thread pool, shared by
   * all the commits made before it starts (a commit made during a sync waits for the next one).
   */
  #durable(): Promise<void> {
    if (this.path === null || this.#synced >= this.#commits) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.#syncWaiters.push({ upTo: this.#commits, resolve, reject })
      if (!this.#syncRunning) {
        this.#syncRunning = true
        void this.#syncLoop()
      }
    })
  }

  async #syncLoop(): Promise<void> {
    try {
      while (this.#syncWaiters.length > 0) {
        const upTo = this.#commits
        try {
          this.#walFile ??= await open(`${this.path as string}-wal`, 'r')
          await this.#walFile.datasync()
          this.#synced = Math.max(this.#synced, upTo)
          // Those who asked during the sync for no more than it covered are done too; the rest wait for the next.
          const waiters = this.#syncWaiters
          this.#syncWaiters = waiters.filter((waiter) => waiter.upTo > this.#synced)
          for (const waiter of waiters) if (waiter.upTo <= this.#synced) waiter.resolve()
        } catch (error) {
          const waiters = this.#syncWaiters.filter((waiter) => waiter.upTo <= upTo)
          this.#syncWaiters = this.#syncWaiters.filter((waiter) => waiter.upTo > upTo)
          for (const waiter of waiters) waiter.reject(error)
        }
      }
    } finally {
      this.#syncRunning = false
    }
  }

  /**
   * BEGIN IMMEDIATE without blocking the event loop while another connection (another process, or the
   * ledger's writer thread on the same file) holds the write lock: SQLite's own busy wait sleeps the thread
   * 1, 2, 5… ms at a time, during which this process could serve nothing. Instead each try fails at once and
   * the next one is a loop turn, then a millisecond, later; the whole wait is bounded by the busy timeout.
   */
  async #beginImmediate(): Promise<true | { error: unknown }> {
    const deadlineMs = performance.now() + this.#busyTimeoutMs
    for (let tries = 0; ; tries += 1) {
      this.#db.exec('PRAGMA busy_timeout = 0')
      try {
        this.#db.exec('BEGIN IMMEDIATE')
        return true
      } catch (error) {
        if (!this.isRetryable(error) || performance.now() >= deadlineMs) return { error }
      } finally {
        this.#db.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`)
      }
      await new Promise((resolve) => (tries === 0 ? setImmediate(resolve) : setTimeout(resolve, 1)))
    }
  }

  /** Runs a multi-statement script (migrations) in the queue. */
  exec(script: string): Promise<void> {
    return this.#serial(async () => {
      this.#db.exec(script)
    })
  }

  async foreignWriteToken(tx: SqlExecutor): Promise<string | null> {
    // data_version changes only when another connection commits, never for this connection's own commits.
    const [row] = await tx.query<{ data_version: bigint }>('PRAGMA data_version')
    return row === undefined ? null : String(row.data_version)
  }

  isRetryable(error: unknown): boolean {
    // SQLITE_BUSY can only come from another process holding the file; waiting again is right.
    return error instanceof Error && /SQLITE_BUSY|database is locked/.test(error.message)
  }

  /** Registers something to close with this client (the ledger's writer thread); returns how to unregister. */
  onClose(hook: () => Promise<void>): () => void {
    this.#onClose.add(hook)
    return () => this.#onClose.delete(hook)
  }

  async close(): Promise<void> {
    for (const hook of [...this.#onClose]) await hook()
    this.#onClose.clear()
    await this.#tail.catch(() => undefined)
    await this.#durable().catch(() => undefined)
    await this.#walFile?.close().catch(() => undefined)
    this.#walFile = null
    this.#statements.clear()
    if (this.#db.isOpen) this.#db.close()
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(task, task)
    this.#tail = next.catch(() => undefined)
    return next
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      try {
        statement = this.#db.prepare(sql)
      } catch (error) {
        throw new StoreError(`sqlite could not prepare: ${(error as Error).message}: ${sql.slice(0, 200)}`, { cause: error })
      }
      if (this.#statements.size >= STATEMENT_CACHE_MAX) this.#statements.clear()
      this.#statements.set(sql, statement)
    }
    return statement
  }

  #all<R extends Row>(sql: string, params: readonly SqlValue[]): R[] {
    return this.#prepare(sql).all(...(params as SqlValue[])) as unknown as R[]
  }

  #run(sql: string, params: readonly SqlValue[]): number {
    return Number(this.#prepare(sql).run(...(params as SqlValue[])).changes)
  }

  #allMany<R extends Row>(sql: string, paramSets: readonly (readonly SqlValue[])[]): R[] {
    const statement = this.#prepare(sql)
    const rows: R[] = []
    for (const params of paramSets) for (const row of statement.all(...(params as SqlValue[]))) rows.push(row as unknown as R)
    return rows
  }

  #runMany(sql: string, paramSets: readonly (readonly SqlValue[])[]): number {
    const statement = this.#prepare(sql)
    let changes = 0
    for (const params of paramSets) changes += Number(statement.run(...(params as SqlValue[])).changes)
    return changes
  }
}
