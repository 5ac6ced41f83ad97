// SPDX-License-Identifier: Apache-2.0
/**
 * The ledger's SQLite writer thread (see sqlite-ledger-writer.ts). It owns one connection to the database
 * file, opened like every other (WAL, synchronous=FULL), and applies the batches the main thread has
 * validated, one transaction each, strictly in the order they arrive: BEGIN IMMEDIATE, check the ledger
 * epoch, write the rows, bump the epoch, COMMIT (fsync). Only then does it answer `ok`.
 *
 * A batch that cannot commit poisons its generation: every later batch of the same generation was
 * validated on top of it, so it is refused (`aborted`) until the main thread starts a new generation.
 *
 * Account rows are written back every few commits, not in each (accounts-behind.ts): a commit writes the
 * batch's journal rows and keeps its account rows here, and an account that many commits touch is written
 * once. A batch that creates accounts or sets limits (which the journal does not hold) writes every row back
 * in its own commit; so does the commit after WRITE_BACK_COMMITS lagging ones, a flush (on close), and a
 * commit of its own once no batch has arrived for the idle delay. What is kept here only ever saves work:
 * the rows plus the journal's tail are the truth, so forgetting it (after any failure) loses nothing.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { StatementSync } from 'node:sqlite'
import { openSqliteDatabase } from '../sqlite/sqlite-client.ts'
import type { Row, SqlExecutor, SqlValue } from '../ports.ts'
import { catchUpAccounts } from './accounts-behind.ts'
import { mergeSqliteWrites, writeSqliteBatch, type SqliteWrites } from './ledger-repo.ts'
import type { WriteBackPolicy } from './sqlite-ledger-writer.ts'
import { packedJournalRows, unpackSqliteWrites, type PackedWrites } from './packed-writes.ts'

export interface BatchRequest {
  readonly kind: 'batch'
  readonly seq: number
  readonly generation: number
  /** The epoch the main thread read together with this batch's rows; null: the one our last commit left. */
  readonly syncEpoch: bigint | null
  /** The batch creates accounts or sets limits: every account row is written back in its commit. */
  readonly writeBack: boolean
  readonly writes: PackedWrites
}

/** Writes every account row kept here back (before the thread ends); answered ok even when there was none. */
export interface FlushRequest {
  readonly kind: 'flush'
  readonly seq: number
}

export type WriterRequest = BatchRequest | FlushRequest

/** Every reply carries the thread's CPU time so far (µs, user + system), for benchmarks and metrics. */
export type WriterReply =
  | { readonly seq: number; readonly ok: true; readonly cpuUs?: number }
  | { readonly seq: number; readonly ok: false; readonly reason: 'stale' | 'aborted' | 'error'; readonly message: string; readonly cpuUs?: number }

if (parentPort === null) throw new Error('sqlite-ledger-worker runs as a worker thread')
const port = parentPort
const { path, busyTimeoutMs, writeBack: policy } = workerData as { path: string; busyTimeoutMs: number; writeBack: WriteBackPolicy }
const db = openSqliteDatabase(path, busyTimeoutMs)
// Every row this connection writes was validated against accounts the main thread read (accounts are never
// deleted), so the foreign-key probes (two per journal row) would only repeat that; `kivuko check` and the
// calling-thread path still have them. Measured: about 5 % of this thread's time.
db.exec('PRAGMA foreign_keys = OFF')
const statements = new Map<string, StatementSync>()

function prepare(sql: string): StatementSync {
  let statement = statements.get(sql)
  if (statement === undefined) {
    statement = db.prepare(sql)
    statements.set(sql, statement)
  }
  return statement
}

/** The SqlExecutor the shared repository code writes through: synchronous calls behind resolved promises. */
const executor: SqlExecutor = {
  dialect: 'sqlite',
  query: async <R extends Row>(sql: string, params: readonly SqlValue[] = []) => prepare(sql).all(...(params as SqlValue[])) as unknown as R[],
  run: async (sql: string, params: readonly SqlValue[] = []) => Number(prepare(sql).run(...(params as SqlValue[])).changes),
  queryMany: async <R extends Row>(sql: string, paramSets: readonly (readonly SqlValue[])[]) => {
    const statement = prepare(sql)
    const rows: R[] = []
    for (const params of paramSets) for (const row of statement.all(...(params as SqlValue[]))) rows.push(row as unknown as R)
    return rows
  },
  runMany: async (sql: string, paramSets: readonly (readonly SqlValue[])[]) => {
    const statement = prepare(sql)
    let changes = 0
    for (const params of paramSets) changes += Number(statement.run(...(params as SqlValue[])).changes)
    return changes
  },
  // The widths the ledger writes (expiry keys, account updates with and without the exemption) bind
  // straight from the list; a row as a list of its own and a spread call cost ~0.15 µs per update.
  runFlat: async (sql: string, values: readonly SqlValue[], width: number) => {
    const statement = prepare(sql)
    const v = values as SqlValue[]
    let changes = 0
    for (let i = 0; i < v.length; i += width) {
      const result =
        width === 2
          ? statement.run(v[i] as SqlValue, v[i + 1] as SqlValue)
          : width === 7
            ? statement.run(v[i] as SqlValue, v[i + 1] as SqlValue, v[i + 2] as SqlValue, v[i + 3] as SqlValue, v[i + 4] as SqlValue, v[i + 5] as SqlValue, v[i + 6] as SqlValue)
            : width === 8
              ? statement.run(v[i] as SqlValue, v[i + 1] as SqlValue, v[i + 2] as SqlValue, v[i + 3] as SqlValue, v[i + 4] as SqlValue, v[i + 5] as SqlValue, v[i + 6] as SqlValue, v[i + 7] as SqlValue)
              : statement.run(...v.slice(i, i + width))
      changes += Number(result.changes)
    }
    return changes
  },
}

/** The epoch after this connection's last commit; null until the main thread gives one to check against. */
let known: bigint | null = null
let poisoned = -1

/** Journal rows one transaction takes at most when batches are merged: bounds a commit's size and latency. */
const MERGED_ROWS_MAX = 40_000
/** Journal rows and accounts left behind at most: bounds what a catch-up replays and a balance read adds up. */
const TAIL_ROWS_MAX = 100_000
const KEPT_ACCOUNTS_MAX = 100_000

/**
 * The account rows of committed batches not yet written back: the update lists' layout (limits and
 * counters, the exempt debits on accounts that have any, then the id), by id. `tracking`: every account the
 * journal's tail changed is here, so writing these back makes every row current.
 */
const kept = new Map<SqlValue, SqlValue[]>()
let tracking = false
let lagCommits = 0
let lagRows = 0

/** After a failure or another writer's commit: the rows plus the tail stay the truth; a catch-up follows. */
function forget(): void {
  kept.clear()
  tracking = false
  lagCommits = 0
  lagRows = 0
}

function keep(values: readonly SqlValue[], width: number): void {
  for (let i = 0; i < values.length; i += width) kept.set(values[i + width - 1] as SqlValue, values.slice(i, i + width))
}

/** Every kept row, as the update lists (which SQLite statement each takes goes by its width). */
function keptUpdates(): Pick<SqliteWrites, 'accountsUpdated' | 'accountsUpdatedExempt'> {
  const accountsUpdated: SqlValue[] = []
  const accountsUpdatedExempt: SqlValue[] = []
  for (const row of kept.values()) {
    const list = row.length === UPDATE_WIDTH ? accountsUpdated : accountsUpdatedExempt
    for (const value of row) list.push(value)
  }
  return { accountsUpdated, accountsUpdatedExempt }
}

/** Values of an account update without the exemption column (ledger-repo's layout). */
const UPDATE_WIDTH = 7

/**
 * Applies a group of batches of one generation in one transaction: the batches that queued up while the
 * previous commit was being written and synced. They share a BEGIN … COMMIT and its fsync, each account is
 * updated once with its final values, and a pending transfer opened and resolved within the group leaves no
 * expiry row. All of them commit or none does.
 */
async function apply(group: readonly BatchRequest[]): Promise<WriterReply[]> {
  const first = group[0] as BatchRequest
  const fail = (reason: 'stale' | 'aborted' | 'error', message: string): WriterReply[] => group.map(({ seq }) => ({ seq, ok: false, reason, message }))
  if (first.generation <= poisoned) return fail('aborted', 'an earlier batch of this generation failed')
  try {
    db.exec('BEGIN IMMEDIATE')
    const row = prepare('SELECT epoch, accounts_seq FROM ledger_epoch WHERE id = 1').get() as { epoch: bigint; accounts_seq: bigint | null } | undefined
    const expected = first.syncEpoch ?? known
    if (row === undefined || expected === null || row.epoch !== expected) {
      db.exec('ROLLBACK')
      poisoned = first.generation
      known = null
      forget()
      return fail('stale', 'another writer committed ledger rows')
    }
    let behind = row.accounts_seq
    if (behind !== null && !tracking) {
      // A tail this thread did not see (a crash, a failure since): replay it, then keep rows from here on.
      await catchUpAccounts(executor)
      behind = null
    }
    tracking = true
    const writes = group.length === 1 ? unpackSqliteWrites(first.writes) : mergeSqliteWrites(group.map((request) => unpackSqliteWrites(request.writes)))
    keep(writes.accountsUpdated, UPDATE_WIDTH)
    keep(writes.accountsUpdatedExempt, UPDATE_WIDTH + 1)
    const rows = writes.transfers.length / 10 + writes.exemptTransfers.length / 10
    const writeBack =
      group.some((request) => request.writeBack) || lagCommits + 1 >= policy.commits || lagRows + rows > TAIL_ROWS_MAX || kept.size > KEPT_ACCOUNTS_MAX
    if (writeBack) {
      await writeSqliteBatch(executor, { ...writes, ...keptUpdates() })
      behind = null
    } else {
      // The rows are current up to the journal as it is before this commit's rows, unless already behind.
      if (behind === null) behind = (prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM ledger_transfer').get() as { seq: bigint }).seq
      await writeSqliteBatch(executor, { ...writes, accountsUpdated: [], accountsUpdatedExempt: [] })
    }
    prepare('UPDATE ledger_epoch SET epoch = ?, accounts_seq = ? WHERE id = 1').run(row.epoch + 1n, behind)
    db.exec('COMMIT')
    known = row.epoch + 1n
    if (writeBack) {
      kept.clear()
      lagCommits = 0
      lagRows = 0
    } else {
      lagCommits += 1
      lagRows += rows
    }
    return group.map(({ seq }) => ({ seq, ok: true }))
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK')
    poisoned = first.generation
    known = null
    forget()
    return fail('error', error instanceof Error ? error.message : String(error))
  }
}

/**
 * Writes the kept rows back in a commit of their own (idle, or asked before the thread ends). Nothing
 * changes for the ledger's readers, so the epoch stays; if another writer has moved it, what is kept may be
 * stale and is forgotten instead (the next batch then finds the epoch moved, as it would have anyway).
 */
async function flush(): Promise<void> {
  if (!tracking || kept.size === 0 || known === null) return
  try {
    db.exec('BEGIN IMMEDIATE')
    const row = prepare('SELECT epoch FROM ledger_epoch WHERE id = 1').get() as { epoch: bigint } | undefined
    if (row === undefined || row.epoch !== known) {
      db.exec('ROLLBACK')
      forget()
      return
    }
    await writeSqliteBatch(executor, { accountsCreated: [], ...keptUpdates(), transfers: [], exemptTransfers: [], expiriesOpened: [], expiriesClosed: [] })
    prepare('UPDATE ledger_epoch SET accounts_seq = NULL WHERE id = 1').run()
    db.exec('COMMIT')
    kept.clear()
    lagCommits = 0
    lagRows = 0
  } catch {
    if (db.isTransaction) db.exec('ROLLBACK')
    forget()
  }
}

/** The batches at the head of the queue that may share a transaction: one generation, one epoch check. */
function takeGroup(queue: WriterRequest[]): BatchRequest[] {
  const first = queue[0] as BatchRequest
  let rows = packedJournalRows(first.writes)
  let take = 1
  while (take < queue.length) {
    const next = queue[take] as WriterRequest
    if (next.kind !== 'batch' || next.generation !== first.generation || next.syncEpoch !== null) break
    rows += packedJournalRows(next.writes)
    if (rows > MERGED_ROWS_MAX) break
    take += 1
  }
  return queue.splice(0, take) as BatchRequest[]
}

// Batches are applied strictly in arrival order. Those that arrive while a commit is being written wait in
// the queue, and the next transaction takes all of them that may share it.
const queue: WriterRequest[] = []
let scheduled = false
let idle: ReturnType<typeof setTimeout> | null = null
async function drain(): Promise<void> {
  scheduled = false
  while (queue.length > 0) {
    const head = queue[0] as WriterRequest
    let replies: WriterReply[]
    if (head.kind === 'flush') {
      queue.shift()
      await flush()
      replies = [{ seq: head.seq, ok: true }]
    } else {
      // The executor is synchronous behind its promises: no message is taken in while a group is applied.
      replies = await apply(takeGroup(queue))
    }
    const cpu = process.threadCpuUsage()
    for (const reply of replies) port.postMessage({ ...reply, cpuUs: cpu.user + cpu.system })
    if (queue.length > 0) {
      // Let the messages that arrived during this commit join the queue before the next group is taken.
      scheduled = true
      setImmediate(() => void drain())
      return
    }
  }
  if (kept.size > 0) {
    idle = setTimeout(() => {
      idle = null
      void flush()
    }, policy.idleMs)
  }
}
port.on('message', (request: WriterRequest) => {
  if (idle !== null) {
    clearTimeout(idle)
    idle = null
  }
  queue.push(request)
  if (!scheduled) {
    scheduled = true
    setImmediate(() => void drain())
  }
})
