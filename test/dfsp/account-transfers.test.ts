// SPDX-License-Identifier: Apache-2.0
/**
 * Ledger.lookupAccountTransfers, the statement query the DFSP added to the ledger port, on both stores:
 * one account's journal rows from both sides, newest first, paged by seq, with each pending row's state.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import fc from 'fast-check'
import type { JournalEntry, TransferInput } from '../../src/ledger/index.ts'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const posted = (id: string, debitAccountId: string, creditAccountId: string, amountMinor: bigint): TransferInput => ({
  id,
  type: 'posted',
  debitAccountId,
  creditAccountId,
  amountMinor,
  currency: 'USD',
})

for (const kind of STORE_KINDS) {
  describe(`Ledger.lookupAccountTransfers on ${kind.name}`, { skip: kind.skip }, () => {
    let testStore: TestStore
    let ledger: BatchingLedger

    beforeEach(async () => {
      testStore = await kind.open()
      ledger = new BatchingLedger(testStore.store)
      await ledger.createAccounts([
        { id: 'F', currency: 'USD', code: 'FUNDING' },
        { id: 'W', currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n },
        { id: 'S', currency: 'USD', code: 'SCHEME' },
      ])
    })

    afterEach(async () => {
      await ledger.close()
      await testStore.close()
    })

    const ids = (rows: readonly JournalEntry[]): string[] => rows.map((row) => row.id)

    it('lists both sides of one account, newest first, with pending states, and pages by seq', async () => {
      for (const input of [
        posted('t1', 'F', 'W', 1_000n),
        posted('t2', 'F', 'S', 50n), // not W's
        { id: 'h1', type: 'pending', debitAccountId: 'W', creditAccountId: 'S', amountMinor: 300n, currency: 'USD' } as const,
        { id: 'h2', type: 'pending', debitAccountId: 'W', creditAccountId: 'S', amountMinor: 200n, currency: 'USD' } as const,
        { id: 'p1', type: 'post_pending', pendingId: 'h1' } as const,
        { id: 'v2', type: 'void_pending', pendingId: 'h2' } as const,
        posted('t3', 'S', 'W', 25n),
      ]) {
        assert.equal((await ledger.createTransfer(input)).status, 'created', input.id)
      }
      const all = await ledger.lookupAccountTransfers('W', { limit: 100 })
      assert.deepEqual(ids(all), ['t3', 'v2', 'p1', 'h2', 'h1', 't1'])
      assert.deepEqual(
        all.map((row) => row.pendingState),
        [null, null, null, 'voided', 'posted', null],
      )
      assert.ok(all.every((row, i) => i === 0 || row.seq < (all[i - 1] as JournalEntry).seq))
      assert.deepEqual(
        { ...(all[5] as JournalEntry), seq: 0n, createdAtMs: 0 },
        { id: 't1', type: 'posted', debitAccountId: 'F', creditAccountId: 'W', amountMinor: 1_000n, currency: 'USD', pendingId: null, expiresAtMs: null, reference: null, createdAtMs: 0, pendingState: null, seq: 0n },
      )

      const first = await ledger.lookupAccountTransfers('W', { limit: 4 })
      assert.deepEqual(ids(first), ['t3', 'v2', 'p1', 'h2'])
      const second = await ledger.lookupAccountTransfers('W', { limit: 4, beforeSeq: (first.at(-1) as JournalEntry).seq })
      assert.deepEqual(ids(second), ['h1', 't1'])
      assert.deepEqual(await ledger.lookupAccountTransfers('nobody', { limit: 10 }), [])
      assert.throws(() => ledger.lookupAccountTransfers('W', { limit: 0 }))
    })

    it('pages through any journal exactly once, in order', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.constantFrom('in', 'out', 'other'), { minLength: 0, maxLength: 40 }), fc.integer({ min: 1, max: 7 }), async (moves, pageSize) => {
          const run = Math.random().toString(36).slice(2, 8)
          const account = `W-${run}`
          await ledger.createAccounts([{ id: account, currency: 'USD', code: 'WALLET' }])
          const expected: string[] = []
          for (const [i, move] of moves.entries()) {
            const id = `${run}-${i}`
            const input = move === 'in' ? posted(id, 'F', account, 1n) : move === 'out' ? posted(id, account, 'S', 1n) : posted(id, 'F', 'S', 1n)
            assert.equal((await ledger.createTransfer(input)).status, 'created')
            if (move !== 'other') expected.unshift(id)
          }
          const seen: string[] = []
          let beforeSeq: bigint | undefined
          for (;;) {
            const page = await ledger.lookupAccountTransfers(account, { limit: pageSize, ...(beforeSeq === undefined ? {} : { beforeSeq }) })
            seen.push(...ids(page))
            if (page.length < pageSize) break
            beforeSeq = (page.at(-1) as JournalEntry).seq
          }
          assert.deepEqual(seen, expected)
        }),
        { numRuns: 15 },
      )
    })
  })
}
