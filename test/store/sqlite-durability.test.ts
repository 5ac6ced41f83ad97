// SPDX-License-Identifier: Apache-2.0
/**
 * The SQLite client syncs its WAL off the event loop: a transaction settles, and its afterTransaction hooks
 * run, only once an fdatasync that began after its COMMIT has finished; commits made while one sync is under
 * way share the next, and their COMMIT too (the transaction stays open until the sync is done); a read outside
 * a transaction waits for what it may have seen to be on disk; and a failed sync fails the transactions it
 * stood for.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { SqliteClient } from '../../src/store/sqlite/sqlite-client.ts'

describe('SQLite WAL sync off the event loop', () => {
  let dir: string
  let client: SqliteClient
  const syncs: { startedMs: number; endedMs: number }[] = []
  let fail: Error | null = null
  /** While set, every sync waits for it too: the tests below decide when the sync under way ends. */
  let held: Promise<void> | null = null
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
    held = null
    prototype.datasync = async function (this: unknown) {
      const startedMs = performance.now()
      await new Promise((resolve) => setTimeout(resolve, 40))
      if (held !== null) await held
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

  /**
   * Commits a first group and holds its sync until `release` is called; resolves once that sync is under way.
   */
  async function firstGroupSyncing(): Promise<{ first: Promise<number>; release: () => void }> {
    let release = (): void => undefined
    held = new Promise<void>((resolve) => (release = resolve))
    const first = client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (1)'))
    while (committedRows().length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    return {
      first,
      release: () => {
        held = null
        release()
      },
    }
  }

  /** Lets the queued groups run (each starts a loop turn after it was asked for). */
  const turns = async (): Promise<void> => {
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve))
  }

  /** The rows another connection sees: only what is committed. */
  function committedRows(): bigint[] {
    const other = new DatabaseSync(join(dir, 'sync.db'), { readOnly: true, readBigInts: true })
    try {
      return other.prepare('SELECT n FROM probe ORDER BY n').all().map((row) => row.n as bigint)
    } finally {
      other.close()
    }
  }

  it('keeps the groups applied during a sync in one open transaction, committed only when that sync is done', async () => {
    const { first, release } = await firstGroupSyncing()
    let applied = 0
    const later = [2, 3].map((n) =>
      client.transaction(async (tx) => {
        await tx.run('INSERT INTO probe (n) VALUES (?)', [n])
        applied += 1
      }),
    )
    await turns()
    assert.equal(applied, 2, 'both works ran during the first sync')
    assert.equal(syncs.length, 0, 'the first sync is still under way')
    assert.deepEqual(committedRows(), [1n], 'what was applied during the sync is not committed yet')
    release()
    await Promise.all([first, ...later])
    assert.deepEqual(committedRows(), [1n, 2n, 3n])
    assert.equal(syncs.length, 2, 'one sync for the first commit, one for the coalesced one')
  })

  it('rolls back alone a work that fails inside the open transaction, and commits the others', async () => {
    const { first, release } = await firstGroupSyncing()
    const kept = client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (2)'))
    let heard: boolean | undefined
    const failed = client.transaction(async (tx) => {
      await tx.run('INSERT INTO probe (n) VALUES (3)')
      tx.afterTransaction?.((committed) => (heard = committed))
      throw new Error('refused')
    })
    await turns()
    assert.equal(heard, false, 'its hooks hear at once that it rolled back')
    release()
    await assert.rejects(failed, /refused/)
    await Promise.all([first, kept])
    assert.deepEqual(committedRows(), [1n, 2n])
  })

  it('commits the open transaction before a script runs, and on close, with its sync', async () => {
    const { first, release } = await firstGroupSyncing()
    const second = client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (2)'))
    await turns()
    assert.deepEqual(committedRows(), [1n], 'the second group waits in the open transaction')
    await client.exec('CREATE TABLE after_probe (n INTEGER)')
    assert.deepEqual(committedRows(), [1n, 2n], 'the script found nothing open')
    const third = client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (3)'))
    await turns()
    const closed = client.close()
    release()
    await closed
    await Promise.all([first, second, third])
    assert.deepEqual(committedRows(), [1n, 2n, 3n])
    client = new SqliteClient({ path: join(dir, 'sync.db') })
  })

  it('fails together the groups of a coalesced commit whose sync failed, and the reads that saw them', async () => {
    const { first, release } = await firstGroupSyncing()
    const second = client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (2)'))
    const read = client.query<{ n: bigint }>('SELECT n FROM probe')
    release()
    await first
    fail = new Error('EIO')
    await assert.rejects(second, /could not sync its WAL/)
    await assert.rejects(read, /could not sync its WAL/)
    fail = null
    await client.transaction((tx) => tx.run('INSERT INTO probe (n) VALUES (4)'))
    const rows = await client.query<{ n: bigint }>('SELECT n FROM probe ORDER BY n')
    assert.deepEqual(
      rows.map((row) => row.n),
      [1n, 2n, 4n],
    )
  })
})
