// SPDX-License-Identifier: Apache-2.0
/**
 * The SQLite writer thread keeps accounts and open pending transfers in memory between batches and
 * validates batch N+1 while batch N is being written. These tests check that it never answers from stale
 * memory: another writer of the same file (a ledger on the calling thread, a second writer thread) changes
 * ledger rows between its batches, and its next answers still follow the rows on disk; a batch the thread
 * cannot commit is answered from the calling-thread path, and nothing is acknowledged twice.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TransferInput } from '../../src/ledger/index.ts'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { migrate } from '../../src/store/migrate.ts'
import { openStore, type Store } from '../../src/store/open-store.ts'

const FAR = Date.UTC(2100, 0, 1)

async function withFile(run: (location: string, store: Store) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kivuko-writer-'))
  const location = join(dir, 'kivuko.db')
  const store = await openStore(location)
  try {
    await migrate(store)
    await run(location, store)
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** F funds the wallet W (which may not overdraw) with `amountMinor`; M is where W pays. */
async function fundedWallet(ledger: BatchingLedger, amountMinor: bigint): Promise<void> {
  await ledger.createAccounts([
    { id: 'F', currency: 'USD', code: 'FUND' },
    { id: 'M', currency: 'USD', code: 'MERCHANT' },
    { id: 'W', currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n },
  ])
  assert.equal((await ledger.createTransfer({ id: 'fund', type: 'posted', debitAccountId: 'F', creditAccountId: 'W', amountMinor, currency: 'USD' })).status, 'created')
}

function pending(id: string, amountMinor: bigint): TransferInput {
  return { id, type: 'pending', debitAccountId: 'W', creditAccountId: 'M', amountMinor, currency: 'USD', expiresAtMs: FAR }
}

describe('SQLite ledger writer thread', () => {
  it('sees what another writer of the same file committed between its batches', async () => {
    await withFile(async (location, store) => {
      const threaded = new BatchingLedger(store)
      await fundedWallet(threaded, 1_000n)
      assert.equal((await threaded.createTransfer(pending('p1', 400n))).status, 'created')
      // Another connection (another process, say) reserves most of what is left, and posts p1.
      const other = await openStore(location)
      const direct = new BatchingLedger(other, { writerThread: false })
      assert.equal((await direct.createTransfer(pending('p2', 500n))).status, 'created')
      assert.equal((await direct.createTransfer({ id: 'c1', type: 'post_pending', pendingId: 'p1' })).status, 'created')
      await direct.close()
      await other.close()
      // The threaded ledger had W's counters and p1 in memory: both are stale now.
      assert.equal((await threaded.createTransfer(pending('p3', 200n))).status, 'exceeds_credits')
      assert.equal((await threaded.createTransfer({ id: 'c1b', type: 'post_pending', pendingId: 'p1' })).status, 'pending_transfer_already_posted')
      assert.equal((await threaded.createTransfer(pending('p3', 100n))).status, 'created')
      assert.equal((await threaded.createTransfer(pending('p2', 500n))).status, 'exists')
      const [w] = await threaded.lookupAccounts(['W'])
      assert.equal(w?.debitsPendingMinor, 600n)
      assert.equal(w?.debitsPostedMinor, 400n)
      await threaded.close()
      assert.deepEqual((await checkLedger(store)).problems, [])
    })
  })

  it('keeps exact answers when two writer threads share one file and many batches are in flight', async () => {
    await withFile(async (location, store) => {
      const second = await openStore(location)
      const a = new BatchingLedger(store, { batchEventsMax: 50 })
      const b = new BatchingLedger(second, { batchEventsMax: 50 })
      await fundedWallet(a, 300n * 10n)
      // 1,000 reservations of 10 against 3,000: exactly 300 fit, whichever ledger and batch they land in.
      const outcomes = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => ((i % 2 === 0 ? a : b) as BatchingLedger).createTransfer(pending(`r${i}`, 10n))),
      )
      assert.equal(outcomes.filter((o) => o.status === 'created').length, 300)
      assert.ok(outcomes.every((o) => o.status === 'created' || o.status === 'exceeds_credits'))
      // Post half of what was reserved through both, and replay everything: nothing moves twice.
      const reserved = outcomes.flatMap((o, i) => (o.status === 'created' ? [`r${i}`] : []))
      const posts = await Promise.all(reserved.map((id, i) => ((i % 2 === 0 ? b : a) as BatchingLedger).createTransfer({ id: `c-${id}`, type: 'post_pending', pendingId: id })))
      assert.ok(posts.every((o) => o.status === 'created'))
      const replays = await Promise.all(reserved.map((id) => a.createTransfer({ id: `c-${id}`, type: 'post_pending', pendingId: id })))
      assert.ok(replays.every((o) => o.status === 'exists'))
      const [w] = await b.lookupAccounts(['W'])
      assert.equal(w?.debitsPostedMinor, 3_000n)
      assert.equal(w?.debitsPendingMinor, 0n)
      await a.close()
      await b.close()
      await second.close()
      assert.deepEqual((await checkLedger(store)).problems, [])
    })
  })

  it('answers replays of transfers it no longer holds in memory from the rows on disk', async () => {
    await withFile(async (_location, store) => {
      const ledger = new BatchingLedger(store)
      await fundedWallet(ledger, 1_000n)
      const spend: TransferInput = { id: 'spend', type: 'posted', debitAccountId: 'W', creditAccountId: 'M', amountMinor: 700n, currency: 'USD' }
      assert.equal((await ledger.createTransfer(spend)).status, 'created')
      // Posted transfers are not kept in memory, and a new transfer's own id is not read before it is
      // applied: these replays reach the unique index (first two) or are refused for want of funds (third).
      const outcomes = await Promise.all([
        ledger.createTransfer(spend),
        ledger.createTransfer({ ...spend, amountMinor: 1n }),
        ledger.createTransfer({ ...spend }),
        ledger.createTransfer({ id: 'more', type: 'posted', debitAccountId: 'W', creditAccountId: 'M', amountMinor: 300n, currency: 'USD' }),
      ])
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['exists', 'exists_with_different_amount', 'exists', 'created'],
      )
      // W has 0 left: a replay of spend would now be refused for want of funds, but it is a replay.
      assert.equal((await ledger.createTransfer(spend)).status, 'exists')
      assert.equal((await ledger.createTransfer({ ...spend, id: 'spend-2' })).status, 'exceeds_credits')
      const [w] = await ledger.lookupAccounts(['W'])
      assert.equal(w?.debitsPostedMinor, 1_000n)
      await ledger.close()
      assert.deepEqual((await checkLedger(store)).problems, [])
    })
  })

  it('answers replays of posted transfers and of resolutions while the batch that made them is in flight', async () => {
    await withFile(async (_location, store) => {
      const ledger = new BatchingLedger(store, { batchEventsMax: 1 })
      await fundedWallet(ledger, 1_000n)
      assert.equal((await ledger.createTransfer(pending('hold', 300n))).status, 'created')
      const pay: TransferInput = { id: 'pay', type: 'posted', debitAccountId: 'W', creditAccountId: 'M', amountMinor: 100n, currency: 'USD' }
      const commit: TransferInput = { id: 'commit', type: 'post_pending', pendingId: 'hold', amountMinor: 250n }
      // One event per batch: each replay is validated while the batches before it are written. A replayed
      // resolution is refused by the engine (its pending transfer is posted already) and then found in the
      // flight that made it; a replayed posted transfer reaches the unique index, and every batch from it on
      // is run again on the calling thread, so the two kinds go in two rounds.
      const resolutions = await Promise.all([
        ledger.createTransfer(commit),
        ledger.createTransfer(commit),
        ledger.createTransfer({ ...commit, amountMinor: 200n }),
        ledger.createTransfer({ id: 'commit-2', type: 'post_pending', pendingId: 'hold' }),
      ])
      assert.deepEqual(
        resolutions.map((o) => o.status),
        ['created', 'exists', 'exists_with_different_amount', 'pending_transfer_already_posted'],
      )
      const posts = await Promise.all([ledger.createTransfer(pay), ledger.createTransfer(pay), ledger.createTransfer({ ...pay, amountMinor: 99n })])
      assert.deepEqual(
        posts.map((o) => o.status),
        ['created', 'exists', 'exists_with_different_amount'],
      )
      const [w] = await ledger.lookupAccounts(['W'])
      assert.equal(w?.debitsPostedMinor, 350n)
      assert.equal(w?.debitsPendingMinor, 0n)
      await ledger.close()
      assert.deepEqual((await checkLedger(store)).problems, [])
    })
  })

  it('pipelines: results come back in submission order, each after its own commit', async () => {
    await withFile(async (_location, store) => {
      let batches = 0
      const ledger = new BatchingLedger(store, { batchEventsMax: 20, onBatch: () => (batches += 1) })
      await ledger.createAccounts([
        { id: 'F', currency: 'USD', code: 'FUND' },
        { id: 'M', currency: 'USD', code: 'MERCHANT' },
      ])
      const reserves = Array.from({ length: 400 }, (_, i): TransferInput => ({ id: `p${i}`, type: 'pending', debitAccountId: 'F', creditAccountId: 'M', amountMinor: 1n, currency: 'USD' }))
      const posts = reserves.map((r): TransferInput => ({ id: `c${r.id}`, type: 'post_pending', pendingId: r.id }))
      // Each post is submitted right behind its reservation, so it is validated while that one is written.
      const outcomes = await Promise.all(reserves.flatMap((r, i) => [ledger.createTransfer(r), ledger.createTransfer(posts[i] as TransferInput)]))
      assert.ok(outcomes.every((o) => o.status === 'created'))
      assert.ok(batches >= 2)
      const [m] = await ledger.lookupAccounts(['M'])
      assert.equal(m?.creditsPostedMinor, 400n)
      assert.equal(m?.creditsPendingMinor, 0n)
      await ledger.close()
      assert.deepEqual((await checkLedger(store)).problems, [])
    })
  })
})
