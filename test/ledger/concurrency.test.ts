// SPDX-License-Identifier: Apache-2.0
/**
 * Reservations racing for the last funds of one account. A wallet funded for exactly ROOM reservations
 * receives 1,000 of them at once: exactly ROOM must succeed and every other one must be told
 * exceeds_credits, however the batches form. On PostgreSQL the same holds for two independent store clients
 * (two pools, as two Kivuko processes would have) writing to the same schema, with no deadlock.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { availableMinor, type Account, type CreateTransferStatus, type TransferInput } from '../../src/ledger/index.ts'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { openStore } from '../../src/store/open-store.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const RESERVATIONS = 1_000
const ROOM = 137
const AMOUNT_MINOR = 100n
const TIMEOUT_MS = 60_000

function reservation(id: string, debitAccountId: string, creditAccountId: string): TransferInput {
  return { id, type: 'pending', debitAccountId, creditAccountId, amountMinor: AMOUNT_MINOR, currency: 'USD', expiresAtMs: Date.UTC(2100, 0, 1) }
}

/** Opens FUND, a merchant M and the given wallets, each funded with exactly ROOM × AMOUNT_MINOR. */
async function openWallets(ledger: BatchingLedger, wallets: readonly string[]): Promise<void> {
  const statuses = await ledger.createAccounts([
    { id: 'FUND', currency: 'USD', code: 'SETTLEMENT' },
    { id: 'M', currency: 'USD', code: 'MERCHANT' },
    ...wallets.map((id) => ({ id, currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n })),
  ])
  assert.ok(statuses.every((s) => s === 'created'))
  const funding = await ledger.createTransfers(
    wallets.map((id) => ({ id: `fund-${id}`, type: 'posted', debitAccountId: 'FUND', creditAccountId: id, amountMinor: BigInt(ROOM) * AMOUNT_MINOR, currency: 'USD' })),
  )
  assert.ok(funding.every((o) => o.status === 'created'))
}

function tally(statuses: readonly CreateTransferStatus[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1
  return counts
}

async function assertWalletFull(testStore: TestStore, ledger: BatchingLedger, walletId: string): Promise<void> {
  const [wallet] = await ledger.lookupAccounts([walletId])
  assert.ok(wallet !== undefined)
  assert.equal(wallet.debitsPendingMinor, BigInt(ROOM) * AMOUNT_MINOR)
  assert.equal(wallet.debitsPostedMinor, 0n)
  assert.equal(availableMinor(wallet as Account), 0n)
  // The journal agrees with the counter: exactly ROOM reservations were written against the wallet.
  const [row] = await testStore.store.query<{ n: bigint }>("SELECT COUNT(*) AS n FROM ledger_transfer WHERE type = 'pending' AND debit_account_id = ?", [walletId])
  assert.equal(row?.n, BigInt(ROOM))
}

for (const kind of STORE_KINDS) {
  describe(`concurrent reservations on ${kind.name}`, { skip: kind.skip }, () => {
    for (const batchEventsMax of [undefined, 16]) {
      const shape = batchEventsMax === undefined ? 'default batches' : `batches of at most ${batchEventsMax}`
      it(`lets exactly ${ROOM} of ${RESERVATIONS} concurrent reservations through (${shape})`, { timeout: TIMEOUT_MS }, async () => {
        const testStore = await kind.open()
        let batches = 0
        const ledger = new BatchingLedger(testStore.store, { ...(batchEventsMax === undefined ? {} : { batchEventsMax }), onBatch: () => (batches += 1) })
        try {
          await openWallets(ledger, ['W'])
          batches = 0
          const outcomes = await Promise.all(Array.from({ length: RESERVATIONS }, (_, i) => ledger.createTransfer(reservation(`r-${i}`, 'W', 'M'))))
          assert.deepEqual(tally(outcomes.map((o) => o.status)), { created: ROOM, exceeds_credits: RESERVATIONS - ROOM })
          if (batchEventsMax !== undefined) assert.ok(batches >= RESERVATIONS / batchEventsMax, `${batches} batches of at most ${batchEventsMax}`)
          await assertWalletFull(testStore, ledger, 'W')
        } finally {
          await ledger.close()
          await testStore.close()
        }
      })
    }

    // Two writers on one SQLite database are one process by design (a single connection queue); two store
    // clients are what several Kivuko processes on one PostgreSQL database look like.
    if (kind.name === 'postgres') {
      it(
        `lets exactly ${ROOM} through when two store clients (two processes) reserve against the same wallet`,
        { timeout: TIMEOUT_MS },
        async () => {
          const first = await kind.open()
          const second = await openStore(first.location)
          const ledgers = [new BatchingLedger(first.store, { batchEventsMax: 16 }), new BatchingLedger(second, { batchEventsMax: 16 })] as const
          try {
            await openWallets(ledgers[0], ['W'])
            const outcomes = await Promise.all(
              Array.from({ length: RESERVATIONS }, (_, i) => (ledgers[i % 2] as BatchingLedger).createTransfer(reservation(`r-${i}`, 'W', 'M'))),
            )
            assert.deepEqual(tally(outcomes.map((o) => o.status)), { created: ROOM, exceeds_credits: RESERVATIONS - ROOM })
            await assertWalletFull(first, ledgers[0], 'W')
            // Both clients see the same state: nothing was cached per process.
            assert.deepEqual(await ledgers[1].lookupAccounts(['W']), await ledgers[0].lookupAccounts(['W']))
          } finally {
            await Promise.all(ledgers.map((l) => l.close()))
            await second.close()
            await first.close()
          }
        },
      )

      it(
        'does not deadlock when two store clients reserve in opposite directions between two wallets',
        { timeout: TIMEOUT_MS },
        async () => {
          const first = await kind.open()
          const second = await openStore(first.location)
          const ledgers = [new BatchingLedger(first.store, { batchEventsMax: 8 }), new BatchingLedger(second, { batchEventsMax: 8 })] as const
          try {
            await openWallets(ledgers[0], ['W1', 'W2'])
            // Every batch touches both wallets, and each client sends both directions: any lock taken out of
            // order between the two clients would deadlock here.
            const inputs = Array.from({ length: RESERVATIONS }, (_, i) => (i % 2 === 0 ? reservation(`a-${i}`, 'W1', 'W2') : reservation(`b-${i}`, 'W2', 'W1')))
            const outcomes = await Promise.all(inputs.map((input, i) => (ledgers[Math.floor(i / 2) % 2] as BatchingLedger).createTransfer(input)))
            for (const wallet of ['W1', 'W2']) {
              const own = outcomes.filter((_, i) => inputs[i]?.debitAccountId === wallet)
              assert.deepEqual(tally(own.map((o) => o.status)), { created: ROOM, exceeds_credits: RESERVATIONS / 2 - ROOM }, wallet)
              await assertWalletFull(first, ledgers[0], wallet)
            }
          } finally {
            await Promise.all(ledgers.map((l) => l.close()))
            await second.close()
            await first.close()
          }
        },
      )
    }
  })
}
