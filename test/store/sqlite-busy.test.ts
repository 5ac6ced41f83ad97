// SPDX-License-Identifier: Apache-2.0
/**
 * SQLite's write lock held by another connection (another process, or the ledger's writer thread on the same
 * file): a group commit waits for it without blocking the event loop, and gives up after the busy timeout.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { openSqliteDatabase, SqliteClient } from '../../src/store/sqlite/sqlite-client.ts'

describe('SQLite group commit while another connection holds the write lock', () => {
  let dir: string
  let path: string

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kivuko-busy-'))
    path = join(dir, 'busy.db')
  })

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('waits for the lock with the event loop free, then commits', async () => {
    const client = new SqliteClient({ path })
    await client.exec('CREATE TABLE probe (n INTEGER PRIMARY KEY)')
    const other = openSqliteDatabase(path)
    try {
      other.exec('BEGIN IMMEDIATE')
      let ticks = 0
      const ticker = setInterval(() => (ticks += 1), 5)
      // The other connection lets go on a timer: that only fires if this thread is not stuck in a busy wait.
      setTimeout(() => other.exec('COMMIT'), 200)
      const startedMs = performance.now()
      await client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (1)'))
      clearInterval(ticker)
      assert.ok(performance.now() - startedMs >= 150, 'the transaction waited for the lock')
      assert.ok(ticks >= 10, `the event loop ran while it waited (${ticks} ticks)`)
      assert.deepEqual((await client.query<{ n: bigint }>('SELECT n FROM probe')).map((r) => r.n), [1n])
    } finally {
      if (other.isTransaction) other.exec('ROLLBACK')
      other.close()
      await client.close()
    }
  })

  it('fails every transaction of the group once the busy timeout has passed', async () => {
    const client = new SqliteClient({ path, busyTimeoutMs: 100 })
    await client.exec('CREATE TABLE probe (n INTEGER PRIMARY KEY)')
    const other = openSqliteDatabase(path)
    try {
      other.exec('BEGIN IMMEDIATE')
      const results = await Promise.allSettled([client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (1)')), client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (2)'))])
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'rejected'],
      )
      assert.ok(client.isRetryable((results[0] as PromiseRejectedResult).reason), 'a busy error, which the caller may retry')
      other.exec('ROLLBACK')
      await client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (3)'))
      assert.deepEqual((await client.query<{ n: bigint }>('SELECT n FROM probe')).map((r) => r.n), [3n])
    } finally {
      if (other.isTransaction) other.exec('ROLLBACK')
      other.close()
      await client.close()
    }
  })
})
