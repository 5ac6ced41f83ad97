// SPDX-License-Identifier: Apache-2.0
/**
 * The writer thread writes account rows (and the expiry index) back every few commits (accounts-behind.ts):
 * between write-backs they lag the journal. These tests hold the rows behind on purpose (a policy that never writes back on
 * its own) and check that nobody ever sees the lag: balance reads and `kivuko check` add the journal's tail,
 * a crash (the files copied as they are on disk while the rows lag) loses nothing and the next process
 * replays the tail before it decides anything, limits and new accounts are never left behind, a writer on
 * the calling thread catches the rows up before it writes them, and a clean stop leaves no tail.
 */
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Account, TransferInput } from '../../src/ledger/index.ts'
import { BatchingLedger, type BatchingLedgerOptions } from '../../src/store/ledger/batching-ledger.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { migrate } from '../../src/store/migrate.ts'
import { openStore, type Store } from '../../src/store/open-store.ts'

/** Never on its own: only a batch that must (accounts, limits), a flush on close, or a catch-up. */
const HELD_BACK = { batches: 1_000_000, idleMs: 3_600_000 }

async function inDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kivuko-behind-'))
  try {
    await run(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function open(path: string): Promise<Store> {
  const store = await openStore(path)
  await migrate(store)
  return store
}

/** What a crash at this moment leaves on disk: the database and its WAL, byte for byte (the writer is idle). */
function crashCopy(from: string, to: string): void {
  copyFileSync(from, to)
  if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`)
}

async function behind(store: Store): Promise<bigint | null> {
  const [row] = await store.query<{ accounts_seq: bigint | null }>('SELECT accounts_seq FROM ledger_epoch WHERE id = 1')
  return row?.accounts_seq ?? null
}

async function storedRow(store: Store, id: string): Promise<{ debits_pending_minor: bigint; debits_posted_minor: bigint; credits_posted_minor: bigint }> {
  const [row] = await store.query<{ debits_pending_minor: bigint; debits_posted_minor: bigint; credits_posted_minor: bigint }>(
    'SELECT debits_pending_minor, debits_posted_minor, credits_posted_minor FROM ledger_account WHERE id = ?',
    [id],
  )
  assert.ok(row !== undefined, `account ${id} has a row`)
  return { ...row }
}

function counters(a: Account | undefined): [bigint, bigint, bigint, bigint] {
  assert.ok(a !== undefined)
  return [a.debitsPendingMinor, a.debitsPostedMinor, a.creditsPendingMinor, a.creditsPostedMinor]
}

const posted = (id: string, from: string, to: string, amountMinor: bigint): TransferInput => ({ id, type: 'posted', debitAccountId: from, creditAccountId: to, amountMinor, currency: 'USD' })
const reserve = (id: string, from: string, to: string, amountMinor: bigint): TransferInput => ({ id, type: 'pending', debitAccountId: from, creditAccountId: to, amountMinor, currency: 'USD' })

/** F funds W with 1,000; W pays M 100 posted, reserves 300 (then posts 200 of it) and 50 (voided), reserves 150 (left open). */
async function lagging(ledger: BatchingLedger): Promise<void> {
  await ledger.createAccounts([
    { id: 'F', currency: 'USD', code: 'FUND' },
    { id: 'M', currency: 'USD', code: 'MERCHANT' },
    { id: 'W', currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n },
  ])
  assert.equal((await ledger.createTransfer(posted('fund', 'F', 'W', 1_000n))).status, 'created')
  assert.equal((await ledger.createTransfer(posted('pay', 'W', 'M', 100n))).status, 'created')
  assert.deepEqual(
    (await ledger.createTransfers([reserve('r1', 'W', 'M', 300n), reserve('r2', 'W', 'M', 50n)])).map((o) => o.status),
    ['created', 'created'],
  )
  assert.deepEqual(
    (await ledger.createTransfers([{ id: 'c1', type: 'post_pending', pendingId: 'r1', amountMinor: 200n }, { id: 'v2', type: 'void_pending', pendingId: 'r2' }])).map((o) => o.status),
    ['created', 'created'],
  )
  assert.equal((await ledger.createTransfer(reserve('r3', 'W', 'M', 150n))).status, 'created')
}

/** A store at `path` and a ledger on it, holding its account rows back, after `lagging`. */
async function laggingLedger(path: string, options: BatchingLedgerOptions = {}): Promise<{ store: Store; ledger: BatchingLedger }> {
  const store = await open(path)
  const ledger = new BatchingLedger(store, { accountsWriteBack: HELD_BACK, ...options })
  await lagging(ledger)
  return { store, ledger }
}

// W: debits pending 150, posted 300; credits posted 1,000. M: credits pending 150, posted 300. F: debits posted 1,000.
const W: [bigint, bigint, bigint, bigint] = [150n, 300n, 0n, 1_000n]
const M: [bigint, bigint, bigint, bigint] = [0n, 0n, 150n, 300n]

describe('account rows behind the journal (SQLite writer thread)', () => {
  it('are never seen behind: balance reads and kivuko check add the tail, and a clean stop writes them back', async () => {
    await inDir(async (dir) => {
      const { store, ledger } = await laggingLedger(join(dir, 'k.db'))
      // The rows are behind: W's row still says what its creation commit wrote (funding came later).
      assert.notEqual(await behind(store), null)
      assert.deepEqual(await storedRow(store, 'W'), { debits_pending_minor: 0n, debits_posted_minor: 0n, credits_posted_minor: 0n })
      const [w, m, f] = await ledger.lookupAccounts(['W', 'M', 'F'])
      assert.deepEqual(counters(w), W)
      assert.deepEqual(counters(m), M)
      assert.deepEqual(counters(f), [0n, 1_000n, 0n, 0n])
      assert.deepEqual((await checkLedger(store)).problems, [])
      // A customer account (statement indexes) is read through the index ranges of its tail.
      assert.deepEqual(await ledger.createAccounts([{ id: 'dfsp.bank.c1', currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n }]), ['created'])
      assert.equal((await ledger.createTransfer(posted('to-c1', 'W', 'dfsp.bank.c1', 40n))).status, 'created')
      assert.equal((await ledger.createTransfer(reserve('from-c1', 'dfsp.bank.c1', 'M', 15n))).status, 'created')
      assert.notEqual(await behind(store), null)
      assert.deepEqual(counters((await ledger.lookupAccounts(['dfsp.bank.c1']))[0]), [15n, 0n, 0n, 40n])
      assert.deepEqual(await storedRow(store, 'dfsp.bank.c1'), { debits_pending_minor: 0n, debits_posted_minor: 0n, credits_posted_minor: 0n })
      await ledger.close()
      assert.equal(await behind(store), null)
      assert.deepEqual(await storedRow(store, 'dfsp.bank.c1'), { debits_pending_minor: 15n, debits_posted_minor: 0n, credits_posted_minor: 40n })
      assert.deepEqual(await storedRow(store, 'W'), { debits_pending_minor: 150n, debits_posted_minor: 340n, credits_posted_minor: 1_000n })
      assert.deepEqual((await checkLedger(store)).problems, [])
      await store.close()
    })
  })

  it('lose nothing in a crash: the next process replays the tail before it decides anything', async () => {
    await inDir(async (dir) => {
      const { store, ledger } = await laggingLedger(join(dir, 'k.db'))
      crashCopy(join(dir, 'k.db'), join(dir, 'crashed.db'))
      await ledger.close()
      await store.close()

      const reopened = await open(join(dir, 'crashed.db'))
      assert.notEqual(await behind(reopened), null, 'the crash left the rows behind')
      assert.deepEqual((await checkLedger(reopened)).problems, [])
      const next = new BatchingLedger(reopened, { accountsWriteBack: HELD_BACK })
      assert.deepEqual(counters((await next.lookupAccounts(['W']))[0]), W)
      // W can spend exactly 1,000 − 300 − 150 = 550 more. Its stale row said 1,000 was spendable.
      assert.equal((await next.createTransfer(posted('too-much', 'W', 'M', 551n))).status, 'exceeds_credits')
      assert.equal((await next.createTransfer(posted('all', 'W', 'M', 550n))).status, 'created')
      // The open reservation is still there to post, once; the resolved ones stay resolved.
      assert.equal((await next.createTransfer({ id: 'c3', type: 'post_pending', pendingId: 'r3' })).status, 'created')
      assert.equal((await next.createTransfer({ id: 'c1-again', type: 'post_pending', pendingId: 'r1' })).status, 'pending_transfer_already_posted')
      assert.deepEqual(counters((await next.lookupAccounts(['W']))[0]), [0n, 1_000n, 0n, 1_000n])
      await next.close()
      assert.equal(await behind(reopened), null)
      assert.deepEqual(await storedRow(reopened, 'W'), { debits_pending_minor: 0n, debits_posted_minor: 1_000n, credits_posted_minor: 1_000n })
      assert.deepEqual((await checkLedger(reopened)).problems, [])
      await reopened.close()
    })
  })

  it('are written back in the commit that sets limits or creates accounts (the journal holds neither)', async () => {
    await inDir(async (dir) => {
      const { store, ledger } = await laggingLedger(join(dir, 'k.db'))
      assert.notEqual(await behind(store), null)
      assert.equal(await ledger.setLimits({ accountId: 'W', debitsLimitMinor: 100n, creditsLimitMinor: null }), 'updated')
      assert.equal(await behind(store), null, 'the limits commit wrote every row')
      assert.deepEqual(await storedRow(store, 'W'), { debits_pending_minor: 150n, debits_posted_minor: 300n, credits_posted_minor: 1_000n })
      assert.equal((await ledger.createTransfer(posted('after-limit', 'W', 'M', 10n))).status, 'created')
      assert.notEqual(await behind(store), null)
      assert.deepEqual(await ledger.createAccounts([{ id: 'N', currency: 'USD', code: 'WALLET' }]), ['created'])
      assert.equal(await behind(store), null, 'the commit that created N wrote every row')
      crashCopy(join(dir, 'k.db'), join(dir, 'crashed.db'))
      await ledger.close()
      await store.close()

      const reopened = await open(join(dir, 'crashed.db'))
      const next = new BatchingLedger(reopened)
      const [w] = await next.lookupAccounts(['W'])
      assert.equal(w?.debitsLimitMinor, 100n)
      // 1,000 + 100 of overdraft − 310 posted − 150 reserved = 640.
      assert.equal((await next.createTransfer(posted('over', 'W', 'M', 641n))).status, 'exceeds_credits')
      assert.equal((await next.createTransfer(posted('to-limit', 'W', 'M', 640n))).status, 'created')
      await next.close()
      assert.deepEqual((await checkLedger(reopened)).problems, [])
      await reopened.close()
    })
  })

  it('are caught up by a writer on the calling thread before it writes them, and the thread then sees its commit', async () => {
    await inDir(async (dir) => {
      const path = join(dir, 'k.db')
      const { store, ledger: threaded } = await laggingLedger(path)
      assert.notEqual(await behind(store), null)
      const other = await openStore(path)
      const direct = new BatchingLedger(other, { writerThread: false }); assert.equal((await direct.createTransfer(posted('direct', 'W', 'M', 500n))).status, 'created')
      assert.equal(await behind(other), null)
      assert.deepEqual(await storedRow(other, 'W'), { debits_pending_minor: 150n, debits_posted_minor: 800n, credits_posted_minor: 1_000n })
      await direct.close()
      await other.close()
      // 50 left: the threaded ledger's memory (550 spendable) is stale, and the kept rows too.
      assert.equal((await threaded.createTransfer(posted('stale', 'W', 'M', 51n))).status, 'exceeds_credits')
      assert.equal((await threaded.createTransfer(posted('last', 'W', 'M', 50n))).status, 'created')
      await threaded.close()
      assert.deepEqual(await storedRow(store, 'W'), { debits_pending_minor: 150n, debits_posted_minor: 850n, credits_posted_minor: 1_000n })
      assert.deepEqual((await checkLedger(store)).problems, [])
      await store.close()
    })
  })

  it('hold the expiry index back too: the sweeper and kivuko check see through it, a crash replays it', async () => {
    await inDir(async (dir) => {
      let nowMs = Date.UTC(2026, 5, 1)
      const clock = { nowMs: () => nowMs }
      const { store, ledger } = await laggingLedger(join(dir, 'k.db'), { clock })
      const held = (id: string, amountMinor: bigint, inMs: number): TransferInput => ({ ...reserve(id, 'W', 'M', amountMinor), expiresAtMs: nowMs + inMs })
      assert.deepEqual(
        (await ledger.createTransfers([held('soon', 10n, 1_000), held('later', 20n, 60_000), held('posted-soon', 30n, 1_000)])).map((o) => o.status),
        ['created', 'created', 'created'],
      )
      assert.equal((await ledger.createTransfer({ id: 'post-it', type: 'post_pending', pendingId: 'posted-soon' })).status, 'created')
      const index = async (s: Store): Promise<string[]> => (await s.query<{ id: string }>('SELECT id FROM ledger_expiry ORDER BY id')).map((r) => r.id)
      assert.notEqual(await behind(store), null)
      assert.deepEqual(await index(store), [], 'the index is behind with the rows')
      assert.deepEqual((await checkLedger(store)).problems, [])
      crashCopy(join(dir, 'k.db'), join(dir, 'crashed.db'))
      nowMs += 2_000
      /** Due: soon (not posted-soon, which was posted, nor later); once closed, the index holds later alone. */
      const expiresSoonOnly = async (sweeper: BatchingLedger, on: Store): Promise<void> => {
        assert.deepEqual(
          (await sweeper.expireDue()).map((o) => [o.pendingId, o.status]),
          [['soon', 'expired']],
        )
        await sweeper.close()
        assert.deepEqual(await index(on), ['later'])
        assert.deepEqual((await checkLedger(on)).problems, [])
        await on.close()
      }
      await expiresSoonOnly(ledger, store)

      const reopened = await open(join(dir, 'crashed.db'))
      assert.deepEqual(await index(reopened), [])
      assert.deepEqual((await checkLedger(reopened)).problems, [])
      await expiresSoonOnly(new BatchingLedger(reopened, { clock }), reopened)
    })
  })

  it('are written back once the writer has been idle for a while', async () => {
    await inDir(async (dir) => {
      const { store, ledger } = await laggingLedger(join(dir, 'k.db'), { accountsWriteBack: { batches: 1_000_000, idleMs: 5 } })
      for (let i = 0; i < 200 && (await behind(store)) !== null; i += 1) await new Promise((resolve) => setTimeout(resolve, 10))
      assert.equal(await behind(store), null)
      assert.deepEqual(await storedRow(store, 'W'), { debits_pending_minor: 150n, debits_posted_minor: 300n, credits_posted_minor: 1_000n })
      await ledger.close()
      await store.close()
    })
  })
})
