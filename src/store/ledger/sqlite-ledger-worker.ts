// SPDX-License-Identifier: Apache-2.0
/**
 * The ledger's SQLite writer thread (see sqlite-ledger-writer.ts). It owns one connection to the database
 * file, opened like every other (WAL, synchronous=FULL), and applies the batches the main thread has
 * validated, one transaction each, strictly in the order they arrive: BEGIN IMMEDIATE, check the ledger
 * epoch, write the rows, bump the epoch, COMMIT (fsync). Only then does it answer `ok`.
 *
 * A batch that cannot commit poisons its generation: every later batch of the same generation was
 * validated on top of it, so it is refused (`aborted`) until the main thread starts a new generation.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { StatementSync } from 'node:sqlite'
import { openSqliteDatabase } from '../sqlite/sqlite-client.ts'
import type { Row, SqlExecutor, SqlValue } from '../ports.ts'
import { writeSqliteBatch, type SqliteWrites } from './ledger-repo.ts'

export interface WriterRequest {
  readonly seq: number
  readonly generation: number
  /** The epoch the main thread read together with this batch's rows; null: the one our last commit left. */
  readonly syncEpoch: bigint | null
  readonly writes: SqliteWrites
}

/** Every reply carries the thread's CPU time so far (µs, user + system), for benchmarks and metrics. */
export type WriterReply =
  | { readonly seq: number; readonly ok: true; readonly cpuUs?: number }
  | { readonly seq: number; readonly ok: false; readonly reason: 'stale' | 'aborted' | 'error'; readonly message: string; readonly cpuUs?: number }

const port = parentPort
if (port === null) throw new Error('sqlite-ledger-worker runs as a worker thread')
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
}

/** The epoch after this connection's last commit; null until the main thread gives one to check against. */
let known: bigint | null = null
let poisoned = -1

async function apply(request: WriterRequest): Promise<WriterReply> {
  const { seq, generation } = request
  if (generation <= poisoned) return { seq, ok: false, reason: 'aborted', message: 'an earlier batch of this generation failed' }
  try {
    db.exec('BEGIN IMMEDIATE')
    const row = prepare('SELECT epoch FROM ledger_epoch WHERE id = 1').get() as { epoch: bigint } | undefined
    const expected = request.syncEpoch ?? known
    if (row === undefined || expected === null || row.epoch !== expected) {
      db.exec('ROLLBACK')
      poisoned = generation
      known = null
      return { seq, ok: false, reason: 'stale', message: 'another writer committed ledger rows' }
    }
    await writeSqliteBatch(executor, request.writes)
    prepare('UPDATE ledger_epoch SET epoch = ? WHERE id = 1').run(row.epoch + 1n)
    db.exec('COMMIT')
    known = row.epoch + 1n
    return { seq, ok: true }
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK')
    poisoned = generation
    known = null
    return { seq, ok: false, reason: 'error', message: error instanceof Error ? error.message : String(error) }
  }
}

// One batch at a time, in arrival order: the next waits for the previous one's COMMIT.
let tail: Promise<unknown> = Promise.resolve()
port.on('message', (request: WriterRequest) => {
  tail = tail.then(async () => {
    const reply = await apply(request)
    const cpu = process.threadCpuUsage()
    port.postMessage({ ...reply, cpuUs: cpu.user + cpu.system })
  })
})
