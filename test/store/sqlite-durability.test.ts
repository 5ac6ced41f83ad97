// SPDX-License-Identifier: Apache-2.0
/**
 * The SQLite client syncs its WAL off the event loop: a transaction settles, and its afterTransaction hooks
 * run, only once an fdatasync that began after its COMMIT has finished; commits made while one sync is under
 * way share the next; a read outside a transaction waits for what it may have seen to be on disk; and a
 * failed sync fails the transactions it stood for.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { SqliteClient } from '../../src/store/sqlite/sqlite-client.ts'

describe('SQLite WAL sync off the event loop', () => {
  let dir: string
  let client: SqliteClient
  const syncs: { startedMs: number; endedMs: number }[] = []
  let fail: Error | null = null
  let restore = (): void => undefined

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kivuko-sync-'))
    client = new SqliteClient({ path: join(dir, 'sync.db') })
    await client.run('CREATE TABLE probe (n INTEGER PRIMARY KEY)')
    // Every FileHandle's datasync, slowed down and recorded.
    const probe = await open(join(dir, 'sync.db'), 'r')
    const prototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
    await probe.close()
    const original = prototype.datasync
    syncs.length = 0
    fail = null
    prototype.datasync = async function (this: unknown) {
      const startedMs = performance.now()
      await new Promise((resolve) => setTimeout(resolve, 40))
      if (fail !== null) throw fail
      await original.call(this)
      syncs.push({ startedMs, endedMs: performance.now() })
    }
    restore = () => {
      prototype.datasync = original
    }
  })

  afterEach(async () => {
    restore()
    await client.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('settles a transaction, and runs its hooks, only after a WAL sync that began after its commit', async () => {
    let hookAtMs = 0
    const startedMs = performance.now()
    await client.transaction(async (tx) => {
      await tx.run('INSERT INTO probe (n) VALUES (1)')
      tx.afterTransaction?.(() => (hookAtMs = performance.now()))
    })
    const settledMs = performance.now()
    assert.equal(syncs.length, 1)
    const sync = syncs[0] as { startedMs: number; endedMs: number }
    assert.ok(sync.startedMs >= startedMs && sync.endedMs <= hookAtMs && hookAtMs <= settledMs)
  })

  it('shares one sync among the groups that commit while another is under way, and keeps the loop free', async () => {
    let ticks = 0
    const ticker = setInterval(() => (ticks += 1), 2)
    const first = client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (1)'))
    // Let the first group commit and start its sync, then commit three more groups during it.
    await new Promise((resolve) => setTimeout(resolve, 10))
    const more = [2, 3, 4].map(async (n) => {
      await new Promise((resolve) => setTimeout(resolve, n))
      return client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (?)', [n]))
    })
    await Promise.all([first, ...more])
    clearInterval(ticker)
    assert.equal(syncs.length, 2, 'the later groups share the second sync')
    assert.ok(ticks >= 10, `the event loop ran during the syncs (${ticks} ticks)`)
  })

  it('makes a read outside a transaction wait until what it saw is on disk', async () => {
    const committed = client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (7)'))
    // Queued behind the group, so it runs after the COMMIT and sees the row before the sync is done.
    const rows = await client.query<{ n: bigint }>('SELECT n FROM probe')
    assert.deepEqual(
      rows.map((r) => r.n),
      [7n],
    )
    assert.equal(syncs.length, 1, 'the read returned only after the sync')
    await committed
  })

  it('fails the transactions of a commit whose sync failed, and tells their hooks', async () => {
    fail = new Error('EIO')
    let heard: boolean | undefined
    await assert.rejects(
      client.transaction(async (tx) => {
        await tx.run('INSERT INTO probe (n) VALUES (1)')
        tx.afterTransaction?.((committed) => (heard = committed))
      }),
      /could not sync its WAL/,
    )
    assert.equal(heard, false)
    fail = null
    await client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (2)'))
  })
})
