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
 * Account rows and the expiry index may be left behind the journal (accounts-behind.ts): a batch that does
 * not write them back carries journal rows only, and its commit records, if nothing is behind yet, the seq
 * after which the journal is not in them. A batch marked `writeBack` carries every account row the tail
 * touched, in its state after the batch, and the tail's expiry rows, netted; its commit marks them current.
 * The main thread decides which is which.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { StatementSync } from 'node:sqlite'
import { openSqliteDatabase } from '../sqlite/sqlite-client.ts'
import type { Row, SqlExecutor, SqlValue } from '../ports.ts'
import { mergeSqliteWrites, writeSqliteBatch } from './ledger-repo.ts'
import { packedJournalRows, unpackSqliteWrites, type PackedWrites } from './packed-writes.ts'

export interface WriterRequest {
  readonly seq: number
  readonly generation: number
  /** The epoch the main thread read together with this batch's rows; null: the one our last commit left. */
  readonly syncEpoch: bigint | null
  /** The batch carries every account row the journal's tail touched: its commit makes the rows current. */
  readonly writeBack: boolean
  readonly writes: PackedWrites
}

/** Every reply carries the thread's CPU time so far (µs, user + system), for benchmarks and metrics. */
export type WriterReply =
  | { readonly seq: number; readonly ok: true; readonly cpuUs?: number }
  | { readonly seq: number; readonly ok: false; readonly reason: 'stale' | 'aborted' | 'error'; readonly message: string; readonly cpuUs?: number }

if (parentPort === null) throw new Error('sqlite-ledger-worker runs as a worker thread')
const port = parentPort
const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number }
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

/**
 * Applies a group of batches of one generation in one transaction: the batches that queued up while the
 * previous commit was being written and synced. They share a BEGIN … COMMIT and its fsync, each account is
 * updated once with its final values, and a pending transfer opened and resolved within the group leaves no
 * expiry row. All of them commit or none does.
 */
async function apply(group: readonly WriterRequest[]): Promise<WriterReply[]> {
  const first = group[0] as WriterRequest
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
      return fail('stale', 'another writer committed ledger rows')
    }
    const writes = group.length === 1 ? unpackSqliteWrites(first.writes) : mergeSqliteWrites(group.map((request) => unpackSqliteWrites(request.writes)))
    // A group ends at a batch that writes the account rows back (takeGroup): its rows are the state after it.
    let behind: bigint | null = null
    if (!(group[group.length - 1] as WriterRequest).writeBack) {
      // Rows that include this commit's effects would be counted twice by a replay of the tail.
      if (
        writes.accountsCreated.length > 0 ||
        writes.accountsUpdated.length > 0 ||
        writes.accountsUpdatedExempt.length > 0 ||
        writes.expiriesOpened.length > 0 ||
        writes.expiriesClosed.length > 0
      ) {
        throw new Error('a batch that leaves the account rows and the expiry index behind carries none of theirs')
      }
      // The rows are current up to the journal as it is before this commit, unless they are behind already.
      behind = row.accounts_seq ?? (prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM ledger_transfer').get() as { seq: bigint }).seq
    }
    await writeSqliteBatch(executor, writes)
    prepare('UPDATE ledger_epoch SET epoch = ?, accounts_seq = ? WHERE id = 1').run(row.epoch + 1n, behind)
    db.exec('COMMIT')
    known = row.epoch + 1n
    return group.map(({ seq }) => ({ seq, ok: true }))
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK')
    poisoned = first.generation
    known = null
    return fail('error', error instanceof Error ? error.message : String(error))
  }
}

/**
 * The batches at the head of the queue that may share a transaction: one generation, one epoch check, and
 * none after a batch that writes the account rows back (its rows are the state after it, not after later ones).
 */
function takeGroup(queue: WriterRequest[]): WriterRequest[] {
  const first = queue[0] as WriterRequest
  let rows = packedJournalRows(first.writes)
  let take = 1
  while (take < queue.length && !(queue[take - 1] as WriterRequest).writeBack) {
    const next = queue[take] as WriterRequest
    if (next.generation !== first.generation || next.syncEpoch !== null) break
    rows += packedJournalRows(next.writes)
    if (rows > MERGED_ROWS_MAX) break
    take += 1
  }
  return queue.splice(0, take)
}

// Batches are applied strictly in arrival order. Those that arrive while a commit is being written wait in
// the queue, and the next transaction takes all of them that may share it.
const queue: WriterRequest[] = []
let scheduled = false
async function drain(): Promise<void> {
  scheduled = false
  while (queue.length > 0) {
    // The executor is synchronous behind its promises: no message is taken in while a group is applied.
    const replies = await apply(takeGroup(queue))
    const cpu = process.threadCpuUsage()
    for (const reply of replies) port.postMessage({ ...reply, cpuUs: cpu.user + cpu.system })
    if (queue.length > 0) {
      // Let the messages that arrived during this commit join the queue before the next group is taken.
      scheduled = true
      setImmediate(() => void drain())
      return
    }
  }
}
port.on('message', (request: WriterRequest) => {
  queue.push(request)
  if (!scheduled) {
    scheduled = true
    setImmediate(() => void drain())
  }
})
