// SPDX-License-Identifier: Apache-2.0
/**
 * The Ledger port's contract, run against both adapters through BatchingLedger on a real, migrated store:
 * what a caller may rely on whichever database is underneath. Every outcome is a status; a rejected promise
 * is a failure of the contract, whatever the input.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.ts'
import { INT64_MAX } from '../../src/core/money.ts'
import { CREATE_ACCOUNT_STATUSES, SET_LIMITS_STATUSES, availableMinor, expiryId, type Account, type AccountInput, type LimitsInput, type StoredTransfer, type TransferInput, type TransferOutcome } from '../../src/ledger/index.ts'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const START_MS = Date.UTC(2026, 0, 1)

const wallet = (id: string, overrides: Partial<AccountInput> = {}): AccountInput => ({ id, currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n, ...overrides })
const settlement = (id: string, overrides: Partial<AccountInput> = {}): AccountInput => ({ id, currency: 'USD', code: 'SETTLEMENT', ...overrides })

function posted(id: string, debitAccountId: string, creditAccountId: string, amountMinor: bigint, overrides: Partial<TransferInput> = {}): TransferInput {
  return { id, type: 'posted', debitAccountId, creditAccountId, amountMinor, currency: 'USD', ...overrides }
}

function pending(id: string, debitAccountId: string, creditAccountId: string, amountMinor: bigint, overrides: Partial<TransferInput> = {}): TransferInput {
  return { ...posted(id, debitAccountId, creditAccountId, amountMinor, overrides), type: 'pending' }
}

interface Counters {
  readonly debitsPendingMinor: bigint
  readonly debitsPostedMinor: bigint
  readonly creditsPendingMinor: bigint
  readonly creditsPostedMinor: bigint
}

const counters = (a: Account): Counters => ({
  debitsPendingMinor: a.debitsPendingMinor,
  debitsPostedMinor: a.debitsPostedMinor,
  creditsPendingMinor: a.creditsPendingMinor,
  creditsPostedMinor: a.creditsPostedMinor,
})

const zero: Counters = { debitsPendingMinor: 0n, debitsPostedMinor: 0n, creditsPendingMinor: 0n, creditsPostedMinor: 0n }

/** A transfer outcome without the stored-only fields, so that a created row and a replayed one compare. */
function row(transfer: TransferOutcome['transfer']): Record<string, unknown> | undefined {
  if (transfer === undefined) return undefined
  const { pendingState: _state, ...rest } = transfer as StoredTransfer
  return rest
}

for (const kind of STORE_KINDS) {
  describe(`Ledger contract: BatchingLedger on ${kind.name}`, { skip: kind.skip }, () => {
    let testStore: TestStore
    let clock: ManualClock
    let ledger: BatchingLedger

    beforeEach(async () => {
      testStore = await kind.open()
      clock = new ManualClock(START_MS)
      ledger = new BatchingLedger(testStore.store, { clock })
    })

    afterEach(async () => {
      await ledger.close()
      await testStore.close()
    })

    async function open(...inputs: AccountInput[]): Promise<void> {
      assert.deepEqual(
        await ledger.createAccounts(inputs),
        inputs.map(() => 'created'),
      )
    }

    async function balances(...ids: string[]): Promise<Counters[]> {
      const accounts = await ledger.lookupAccounts(ids)
      assert.deepEqual(
        accounts.map((a) => a.id),
        ids,
      )
      return accounts.map(counters)
    }

    async function journalSize(): Promise<bigint> {
      const [found] = await testStore.store.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM ledger_transfer')
      return found?.n ?? -1n
    }

    /** The funded settlement account S (1,000,000), an empty wallet W and a merchant M, all USD. */
    async function openWorld(): Promise<void> {
      await open(settlement('S'), wallet('W'), settlement('M'), settlement('FUND'))
      assert.equal((await ledger.createTransfer(posted('seed', 'FUND', 'S', 1_000_000n))).status, 'created')
    }

    describe('accounts', () => {
      it('creates accounts and reads back every field', async () => {
        await open(settlement('S'), wallet('W'), { id: 'M', currency: 'UGX', code: 'POSITION', debitsLimitMinor: 500n, creditsLimitMinor: 7n })
        const accounts = await ledger.lookupAccounts(['M', 'S', 'W'])
        assert.deepEqual(accounts, [
          { id: 'M', currency: 'UGX', code: 'POSITION', debitsLimitMinor: 500n, creditsLimitMinor: 7n, ...zero, createdAtMs: START_MS },
          { id: 'S', currency: 'USD', code: 'SETTLEMENT', debitsLimitMinor: null, creditsLimitMinor: null, ...zero, createdAtMs: START_MS },
          { id: 'W', currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n, creditsLimitMinor: null, ...zero, createdAtMs: START_MS },
        ])
      })

      it('answers exists for the same account again and names any difference, changing nothing', async () => {
        await open(wallet('W'))
        const before = await ledger.lookupAccounts(['W'])
        clock.advance(1_000)
        const answered = await ledger.createAccounts([
          wallet('W'),
          wallet('W', { currency: 'EUR' }),
          wallet('W', { code: 'OTHER' }),
          wallet('W', { debitsLimitMinor: 1n }),
          wallet('W', { creditsLimitMinor: 0n }),
        ])
        assert.deepEqual(answered, ['exists', 'exists_with_different_currency', 'exists_with_different_code', 'exists_with_different_limits', 'exists_with_different_limits'])
        assert.deepEqual(await ledger.lookupAccounts(['W']), before)
      })

      it('refuses malformed accounts with their documented statuses and stores none of them', async () => {
        const answered = await ledger.createAccounts([
          wallet(''),
          wallet('has space'),
          wallet('a'.repeat(65)),
          wallet('a~b'),
          wallet('K1', { code: 'wallet' }),
          wallet('K2', { code: 'C'.repeat(33) }),
          wallet('K3', { currency: 'ZZZ' }),
          wallet('K4', { currency: 'usd' }),
          wallet('K5', { debitsLimitMinor: -1n }),
          wallet('K6', { creditsLimitMinor: -1n }),
        ])
        assert.deepEqual(answered, [
          'id_invalid',
          'id_invalid',
          'id_invalid',
          'id_invalid',
          'code_invalid',
          'code_invalid',
          'currency_unknown',
          'currency_unknown',
          'limit_must_not_be_negative',
          'limit_must_not_be_negative',
        ])
        assert.deepEqual(await ledger.lookupAccounts(['has space', 'a~b', 'K1', 'K2', 'K3', 'K4', 'K5', 'K6']), [])
      })

      it('reads back only the accounts that exist, in the order asked', async () => {
        await open(wallet('A1'), wallet('A2'))
        const found = await ledger.lookupAccounts(['A2', 'nobody', 'A1'])
        assert.deepEqual(
          found.map((a) => a.id),
          ['A2', 'A1'],
        )
      })
    })

    describe('posted transfers', () => {
      it('moves money at once and reads back exactly what was written', async () => {
        await openWorld()
        clock.advance(5)
        const outcome = await ledger.createTransfer(posted('T1', 'S', 'W', 250n, { reference: 'order-42' }))
        const expected = {
          id: 'T1',
          type: 'posted',
          debitAccountId: 'S',
          creditAccountId: 'W',
          amountMinor: 250n,
          currency: 'USD',
          pendingId: null,
          expiresAtMs: null,
          reference: 'order-42',
          createdAtMs: START_MS + 5,
        }
        assert.equal(outcome.status, 'created')
        assert.deepEqual(row(outcome.transfer), expected)
        assert.deepEqual(await ledger.lookupTransfers(['T1']), [{ ...expected, pendingState: null }])
        const [s, w] = await balances('S', 'W')
        assert.deepEqual(s, { ...zero, creditsPostedMinor: 1_000_000n, debitsPostedMinor: 250n })
        assert.deepEqual(w, { ...zero, creditsPostedMinor: 250n })
      })

      it('reads back only the transfers that exist, in the order asked', async () => {
        await openWorld()
        await ledger.createTransfers([posted('T1', 'S', 'W', 1n), posted('T2', 'S', 'W', 2n)])
        const found = await ledger.lookupTransfers(['T2', 'nobody', 'T1'])
        assert.deepEqual(
          found.map((t) => [t.id, t.amountMinor]),
          [
            ['T2', 2n],
            ['T1', 1n],
          ],
        )
      })
    })

    describe('two-phase transfers', () => {
      it('reserves, then posts in full: the reservation becomes a posting', async () => {
        await openWorld()
        const reserved = await ledger.createTransfer(pending('P1', 'S', 'M', 400n, { expiresAtMs: START_MS + 60_000 }))
        assert.equal(reserved.status, 'created')
        assert.deepEqual(await balances('S', 'M'), [
          { ...zero, creditsPostedMinor: 1_000_000n, debitsPendingMinor: 400n },
          { ...zero, creditsPendingMinor: 400n },
        ])
        assert.equal((await ledger.lookupTransfers(['P1']))[0]?.pendingState, 'pending')

        const postedOutcome = await ledger.createTransfer({ id: 'C1', type: 'post_pending', pendingId: 'P1' })
        assert.equal(postedOutcome.status, 'created')
        assert.equal(postedOutcome.transfer?.amountMinor, 400n)
        assert.deepEqual(await balances('S', 'M'), [
          { ...zero, creditsPostedMinor: 1_000_000n, debitsPostedMinor: 400n },
          { ...zero, creditsPostedMinor: 400n },
        ])
        const [p1, c1] = await ledger.lookupTransfers(['P1', 'C1'])
        assert.equal(p1?.pendingState, 'posted')
        assert.equal(c1?.type, 'post_pending')
        assert.equal(c1?.pendingId, 'P1')
        assert.equal(c1?.pendingState, null)
      })

      it('posts in part: the rest of the reservation is released', async () => {
        await openWorld()
        await ledger.createTransfer(pending('P1', 'S', 'M', 400n))
        const outcome = await ledger.createTransfer({ id: 'C1', type: 'post_pending', pendingId: 'P1', amountMinor: 150n })
        assert.equal(outcome.status, 'created')
        assert.deepEqual(await balances('S', 'M'), [
          { ...zero, creditsPostedMinor: 1_000_000n, debitsPostedMinor: 150n },
          { ...zero, creditsPostedMinor: 150n },
        ])
        assert.equal((await ledger.lookupTransfers(['C1']))[0]?.amountMinor, 150n)
      })

      it('voids: the reservation is released and nothing moves', async () => {
        await openWorld()
        await ledger.createTransfer(pending('P1', 'S', 'M', 400n))
        const outcome = await ledger.createTransfer({ id: 'V1', type: 'void_pending', pendingId: 'P1' })
        assert.equal(outcome.status, 'created')
        assert.deepEqual(await balances('S', 'M'), [{ ...zero, creditsPostedMinor: 1_000_000n }, zero])
        assert.equal((await ledger.lookupTransfers(['P1']))[0]?.pendingState, 'voided')
      })

      it('resolves a pending transfer only once and answers why later attempts fail', async () => {
        await openWorld()
        await ledger.createTransfers([pending('P1', 'S', 'M', 100n), pending('P2', 'S', 'M', 100n)])
        assert.equal((await ledger.createTransfer({ id: 'C1', type: 'post_pending', pendingId: 'P1' })).status, 'created')
        assert.equal((await ledger.createTransfer({ id: 'V2', type: 'void_pending', pendingId: 'P2' })).status, 'created')
        const answered = await ledger.createTransfers([
          { id: 'X1', type: 'void_pending', pendingId: 'P1' },
          { id: 'X2', type: 'post_pending', pendingId: 'P1' },
          { id: 'X3', type: 'post_pending', pendingId: 'P2' },
          { id: 'X4', type: 'post_pending', pendingId: 'nobody' },
          { id: 'X5', type: 'post_pending', pendingId: 'C1' },
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          ['pending_transfer_already_posted', 'pending_transfer_already_posted', 'pending_transfer_already_voided', 'pending_transfer_not_found', 'pending_transfer_not_pending'],
        )
        assert.deepEqual(await ledger.lookupTransfers(['X1', 'X2', 'X3', 'X4', 'X5']), [])
        const [s] = await balances('S')
        assert.deepEqual(s, { ...zero, creditsPostedMinor: 1_000_000n, debitsPostedMinor: 100n })
      })

      it('refuses to post more than was reserved', async () => {
        await openWorld()
        await ledger.createTransfer(pending('P1', 'S', 'M', 100n))
        assert.equal((await ledger.createTransfer({ id: 'C1', type: 'post_pending', pendingId: 'P1', amountMinor: 101n })).status, 'exceeds_pending_transfer_amount')
        assert.equal((await ledger.lookupTransfers(['P1']))[0]?.pendingState, 'pending')
      })
    })

    describe('idempotent replays', () => {
      it('answers exists for every replay and changes nothing: balances, journal and rows', async () => {
        await openWorld()
        const inputs: TransferInput[] = [
          posted('T1', 'S', 'W', 500n, { reference: 'r-1' }),
          pending('P1', 'S', 'M', 300n, { expiresAtMs: START_MS + 10_000 }),
          pending('P2', 'W', 'M', 200n),
          { id: 'C1', type: 'post_pending', pendingId: 'P1', amountMinor: 100n },
          { id: 'V2', type: 'void_pending', pendingId: 'P2' },
        ]
        const first: TransferOutcome[] = []
        for (const input of inputs) first.push(await ledger.createTransfer(input))
        assert.deepEqual(
          first.map((o) => o.status),
          inputs.map(() => 'created'),
        )
        const accountsBefore = await ledger.lookupAccounts(['S', 'W', 'M'])
        const rowsBefore = await ledger.lookupTransfers(inputs.map((i) => i.id))
        const journalBefore = await journalSize()

        clock.advance(60_000) // P1's expiry has passed: a replay still answers exists
        const oneByOne: TransferOutcome[] = []
        for (const input of inputs) oneByOne.push(await ledger.createTransfer(input))
        const together = await ledger.createTransfers(inputs)
        const concurrent = await Promise.all(inputs.map((input) => ledger.createTransfer(input)))

        for (const replays of [oneByOne, together, concurrent]) {
          assert.deepEqual(
            replays.map((o) => o.status),
            inputs.map(() => 'exists'),
          )
          replays.forEach((o, i) => assert.deepEqual(row(o.transfer), row(first[i]?.transfer), `replay of ${inputs[i]?.id} returns the stored row`))
        }
        assert.deepEqual(await ledger.lookupAccounts(['S', 'W', 'M']), accountsBefore)
        assert.deepEqual(await ledger.lookupTransfers(inputs.map((i) => i.id)), rowsBefore)
        assert.equal(await journalSize(), journalBefore)
        assert.deepEqual(await ledger.expireDue(), [], 'a posted reservation never expires')
      })

      it('answers exists for a replay the payer could no longer afford', async () => {
        await openWorld()
        await ledger.createTransfer(posted('T1', 'S', 'W', 50n))
        assert.equal((await ledger.createTransfer(posted('T2', 'W', 'M', 50n))).status, 'created')
        assert.equal((await ledger.createTransfer(posted('T2', 'W', 'M', 50n))).status, 'exists')
        assert.equal(availableMinor((await ledger.lookupAccounts(['W']))[0] as Account), 0n)
      })

      it('answers exists_with_different_* for the same id with other content, changing nothing', async () => {
        await openWorld()
        await ledger.createTransfers([posted('T1', 'S', 'W', 500n, { reference: 'r-1' }), pending('P1', 'S', 'M', 300n, { expiresAtMs: START_MS + 10_000 })])
        const journal = await journalSize()
        const accounts = await ledger.lookupAccounts(['S', 'W', 'M'])
        const answered = await ledger.createTransfers([
          pending('T1', 'S', 'W', 500n, { reference: 'r-1' }),
          posted('T1', 'M', 'W', 500n, { reference: 'r-1' }),
          posted('T1', 'S', 'M', 500n, { reference: 'r-1' }),
          posted('T1', 'S', 'W', 501n, { reference: 'r-1' }),
          posted('T1', 'S', 'W', 500n, { reference: 'r-2' }),
          pending('P1', 'S', 'M', 300n, { expiresAtMs: START_MS + 10_001 }),
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          [
            'exists_with_different_type',
            'exists_with_different_debit_account_id',
            'exists_with_different_credit_account_id',
            'exists_with_different_amount',
            'exists_with_different_reference',
            'exists_with_different_expiry',
          ],
        )
        assert.equal(await journalSize(), journal)
        assert.deepEqual(await ledger.lookupAccounts(['S', 'W', 'M']), accounts)
      })

      it('creates once when the same transfer arrives twice in one batch', async () => {
        await openWorld()
        const input = posted('T1', 'S', 'W', 10n)
        const [a, b] = await Promise.all([ledger.createTransfer(input), ledger.createTransfer(input)])
        assert.deepEqual([a?.status, b?.status], ['created', 'exists'])
        const [w] = await balances('W')
        assert.equal(w?.creditsPostedMinor, 10n)
      })
    })

    describe('expiry via expireDue', () => {
      it('expires a reservation once it is due, releases it, and records the expiry', async () => {
        await openWorld()
        await ledger.createTransfer(pending('P1', 'S', 'M', 300n, { expiresAtMs: START_MS + 1_000 }))
        clock.advance(999)
        assert.deepEqual(await ledger.expireDue(), [])
        clock.advance(1)
        const outcomes = await ledger.expireDue()
        assert.equal(outcomes.length, 1)
        assert.equal(outcomes[0]?.pendingId, 'P1')
        assert.equal(outcomes[0]?.status, 'expired')
        assert.equal(outcomes[0]?.transfer?.id, expiryId('P1'))
        assert.deepEqual(await balances('S', 'M'), [{ ...zero, creditsPostedMinor: 1_000_000n }, zero])
        const [p1, expiry] = await ledger.lookupTransfers(['P1', expiryId('P1')])
        assert.equal(p1?.pendingState, 'expired')
        assert.equal(expiry?.type, 'expire_pending')
        assert.equal(expiry?.pendingId, 'P1')
        assert.equal(expiry?.amountMinor, 300n)
        assert.equal(expiry?.createdAtMs, START_MS + 1_000)
        clock.advance(1_000_000)
        assert.deepEqual(await ledger.expireDue(), [], 'an expiry is recorded once')
        assert.equal((await ledger.createTransfer({ id: 'C1', type: 'post_pending', pendingId: 'P1' })).status, 'pending_transfer_expired')
        assert.equal((await ledger.createTransfer(pending('P1', 'S', 'M', 300n, { expiresAtMs: START_MS + 1_000 }))).status, 'exists')
      })

      it('refuses to post or void a reservation that is due but not yet swept, then sweeps it', async () => {
        await openWorld()
        await ledger.createTransfer(pending('P1', 'S', 'M', 300n, { expiresAtMs: START_MS + 1_000 }))
        clock.advance(1_000)
        const answered = await ledger.createTransfers([
          { id: 'C1', type: 'post_pending', pendingId: 'P1' },
          { id: 'V1', type: 'void_pending', pendingId: 'P1' },
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          ['pending_transfer_expired', 'pending_transfer_expired'],
        )
        assert.deepEqual(
          (await ledger.expireDue()).map((o) => [o.pendingId, o.status]),
          [['P1', 'expired']],
        )
      })

      it('never expires a reservation that was resolved first, nor one without an expiry', async () => {
        await openWorld()
        await ledger.createTransfers([
          pending('P1', 'S', 'M', 100n, { expiresAtMs: START_MS + 1_000 }),
          pending('P2', 'S', 'M', 100n, { expiresAtMs: START_MS + 1_000 }),
          pending('P3', 'S', 'M', 100n),
        ])
        await ledger.createTransfers([
          { id: 'C1', type: 'post_pending', pendingId: 'P1' },
          { id: 'V2', type: 'void_pending', pendingId: 'P2' },
        ])
        clock.advance(86_400_000)
        assert.deepEqual(await ledger.expireDue(), [])
        const states = (await ledger.lookupTransfers(['P1', 'P2', 'P3'])).map((t) => t.pendingState)
        assert.deepEqual(states, ['posted', 'voided', 'pending'])
      })

      it('sweeps at most `limit` expiries per call, earliest first', async () => {
        await openWorld()
        await ledger.createTransfers([
          pending('P3', 'S', 'M', 1n, { expiresAtMs: START_MS + 30 }),
          pending('P1', 'S', 'M', 1n, { expiresAtMs: START_MS + 10 }),
          pending('P2', 'S', 'M', 1n, { expiresAtMs: START_MS + 20 }),
        ])
        clock.advance(100)
        const first = await ledger.expireDue(2)
        assert.deepEqual(first.map((o) => [o.pendingId, o.status]).sort(), [
          ['P1', 'expired'],
          ['P2', 'expired'],
        ])
        assert.deepEqual(
          (await ledger.expireDue(2)).map((o) => [o.pendingId, o.status]),
          [['P3', 'expired']],
        )
        assert.deepEqual(await ledger.expireDue(2), [])
      })

      it('refuses an expiry that is not in the future', async () => {
        await openWorld()
        const answered = await ledger.createTransfers([
          pending('P1', 'S', 'M', 1n, { expiresAtMs: START_MS }),
          pending('P2', 'S', 'M', 1n, { expiresAtMs: START_MS - 1 }),
          pending('P3', 'S', 'M', 1n, { expiresAtMs: 0 }),
          posted('P4', 'S', 'M', 1n, { expiresAtMs: START_MS + 1 }),
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          ['expiry_must_be_in_future', 'expiry_must_be_in_future', 'expiry_invalid', 'expiry_reserved_for_pending_transfer'],
        )
      })
    })

    describe('limits', () => {
      it('never lets a wallet with debitsLimitMinor 0 go below zero, reservations included', async () => {
        await openWorld()
        const answered: string[] = []
        for (const input of [
          posted('T1', 'W', 'M', 1n),
          posted('F1', 'S', 'W', 100n),
          pending('R1', 'W', 'M', 60n),
          posted('T2', 'W', 'M', 41n),
          posted('T3', 'W', 'M', 40n),
          posted('T4', 'W', 'M', 1n),
        ]) {
          answered.push((await ledger.createTransfer(input)).status)
        }
        assert.deepEqual(answered, ['exceeds_credits', 'created', 'created', 'exceeds_credits', 'created', 'exceeds_credits'])
        const [w] = await ledger.lookupAccounts(['W'])
        assert.equal(availableMinor(w as Account), 0n)
      })

      it('sets, reads back and enforces new limits', async () => {
        await openWorld()
        await ledger.createTransfer(posted('F1', 'S', 'W', 100n))
        assert.equal(await ledger.setLimits({ accountId: 'W', debitsLimitMinor: 50n, creditsLimitMinor: null }), 'updated')
        assert.equal((await ledger.lookupAccounts(['W']))[0]?.debitsLimitMinor, 50n)
        assert.equal((await ledger.createTransfer(posted('T1', 'W', 'M', 150n))).status, 'created')
        assert.equal((await ledger.createTransfer(posted('T2', 'W', 'M', 1n))).status, 'exceeds_credits')
        // W now carries 150 of debits against 100 of credits: a limit below 50 would break its own rule.
        assert.equal(await ledger.setLimits({ accountId: 'W', debitsLimitMinor: 49n, creditsLimitMinor: null }), 'exceeds_credits')
        assert.equal((await ledger.lookupAccounts(['W']))[0]?.debitsLimitMinor, 50n, 'a refused change leaves the limit as it was')
        assert.equal(await ledger.setLimits({ accountId: 'W', debitsLimitMinor: null, creditsLimitMinor: null }), 'updated')
        assert.equal((await ledger.createTransfer(posted('T3', 'W', 'M', 1_000n))).status, 'created')
      })

      it('enforces a credits limit with exceeds_debits', async () => {
        await openWorld()
        await open(settlement('CAP', { creditsLimitMinor: 100n }))
        const answered = await ledger.createTransfers([posted('T1', 'S', 'CAP', 100n), posted('T2', 'S', 'CAP', 1n)])
        assert.deepEqual(
          answered.map((o) => o.status),
          ['created', 'exceeds_debits'],
        )
        assert.equal(await ledger.setLimits({ accountId: 'CAP', debitsLimitMinor: null, creditsLimitMinor: 99n }), 'exceeds_debits')
      })

      it('answers account_not_found, limit_invalid and limit_must_not_be_negative', async () => {
        await openWorld()
        assert.equal(await ledger.setLimits({ accountId: 'nobody', debitsLimitMinor: 0n, creditsLimitMinor: null }), 'account_not_found')
        // What an untyped caller could send: a number, a missing limit. Refused, never thrown.
        assert.equal(await ledger.setLimits({ accountId: 'W', debitsLimitMinor: 5 as unknown as bigint, creditsLimitMinor: null }), 'limit_invalid')
        assert.equal(await ledger.setLimits({ accountId: 'W', debitsLimitMinor: 0n } as unknown as LimitsInput), 'limit_invalid')
        assert.deepEqual(await ledger.createAccounts([{ id: 'num-limit', currency: 'USD', code: 'WALLET', debitsLimitMinor: 5 as unknown as bigint }]), ['limit_invalid'])
        assert.equal(await ledger.setLimits({ accountId: 'W', debitsLimitMinor: -1n, creditsLimitMinor: null }), 'limit_must_not_be_negative')
        assert.equal(await ledger.setLimits({ accountId: 'W', debitsLimitMinor: 0n, creditsLimitMinor: -1n }), 'limit_must_not_be_negative')
        assert.equal((await ledger.lookupAccounts(['W']))[0]?.debitsLimitMinor, 0n)
      })
    })

    describe('bad input gets its documented status, never an exception', () => {
      it('answers id_invalid for malformed transfer ids and stores nothing', async () => {
        await openWorld()
        const ids = ['', 'has space', 'a'.repeat(65), 'a~b', 'semi;colon', 'ünïcode', `${'P'}~expired`]
        const answered = await ledger.createTransfers(ids.map((id) => posted(id, 'S', 'W', 1n)))
        assert.deepEqual(
          answered.map((o) => o.status),
          ids.map(() => 'id_invalid'),
        )
        assert.equal(await journalSize(), 1n)
      })

      it('answers currency_unknown and currency_must_match_accounts', async () => {
        await openWorld()
        await open({ id: 'EU', currency: 'EUR', code: 'SETTLEMENT' })
        const answered = await ledger.createTransfers([
          posted('T1', 'S', 'W', 1n, { currency: 'ZZZ' }),
          posted('T2', 'S', 'W', 1n, { currency: 'usd' }),
          posted('T3', 'S', 'W', 1n, { currency: '' }),
          posted('T4', 'S', 'W', 1n, { currency: 'EUR' }),
          posted('T5', 'S', 'EU', 1n),
          posted('T6', 'S', 'EU', 1n, { currency: 'EUR' }),
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          ['currency_unknown', 'currency_unknown', 'currency_unknown', 'currency_must_match_accounts', 'currency_must_match_accounts', 'currency_must_match_accounts'],
        )
        assert.equal(await journalSize(), 1n)
      })

      it('answers amount_must_be_positive for zero, negative, missing or non-bigint amounts', async () => {
        await openWorld()
        const notBigint = 5 as unknown as bigint // what a JavaScript caller could pass
        const answered = await ledger.createTransfers([
          posted('T1', 'S', 'W', 0n),
          posted('T2', 'S', 'W', -1n),
          pending('T3', 'S', 'W', -(10n ** 20n)),
          { id: 'T4', type: 'posted', debitAccountId: 'S', creditAccountId: 'W', currency: 'USD' },
          posted('T5', 'S', 'W', notBigint),
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          answered.map(() => 'amount_must_be_positive'),
        )
        assert.equal(await journalSize(), 1n)
      })

      it('answers amount_exceeds_scheme_max above the default and a configured scheme maximum', async () => {
        await openWorld()
        const capped = new BatchingLedger(testStore.store, { clock, schemeMaxMinor: (c) => (c === 'USD' ? 1_000n : 10n ** 15n) })
        try {
          assert.equal((await ledger.createTransfer(posted('T1', 'S', 'W', 10n ** 15n + 1n))).status, 'amount_exceeds_scheme_max')
          assert.equal((await ledger.createTransfer(posted('T2', 'S', 'W', INT64_MAX + 1n))).status, 'amount_exceeds_scheme_max')
          assert.equal((await capped.createTransfer(posted('T3', 'S', 'W', 1_001n))).status, 'amount_exceeds_scheme_max')
          assert.equal((await capped.createTransfer(posted('T4', 'S', 'W', 1_000n))).status, 'created')
        } finally {
          await capped.close()
        }
      })

      it('answers debit_account_not_found and credit_account_not_found, malformed account ids included', async () => {
        await openWorld()
        const answered = await ledger.createTransfers([
          posted('T1', 'nobody', 'W', 1n),
          posted('T2', 'S', 'nobody', 1n),
          posted('T3', 'has space', 'W', 1n),
          posted('T4', 'S', 'x'.repeat(300), 1n),
          posted('T5', 'nobody', 'nobody-else', 1n),
          { id: 'T6', type: 'posted', creditAccountId: 'W', amountMinor: 1n, currency: 'USD' },
          { id: 'T7', type: 'posted', debitAccountId: 'S', amountMinor: 1n, currency: 'USD' },
          posted('T8', 'S', 'S', 1n),
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          [
            'debit_account_not_found',
            'credit_account_not_found',
            'debit_account_not_found',
            'credit_account_not_found',
            'debit_account_not_found',
            'debit_account_id_must_not_be_empty',
            'credit_account_id_must_not_be_empty',
            'accounts_must_be_different',
          ],
        )
        assert.equal(await journalSize(), 1n)
      })

      it('answers reference_invalid, and the pending-id rules', async () => {
        await openWorld()
        const answered = await ledger.createTransfers([
          posted('T1', 'S', 'W', 1n, { reference: 'r'.repeat(129) }),
          posted('T2', 'S', 'W', 1n, { pendingId: 'P1' }),
          { id: 'T3', type: 'post_pending' },
          { id: 'T4', type: 'void_pending', pendingId: 'T4' },
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          ['reference_invalid', 'pending_id_must_be_empty', 'pending_id_must_not_be_empty', 'pending_id_must_be_different'],
        )
      })

      it('answers id_invalid for a transfer id with a NUL character', async () => {
        await openWorld()
        assert.equal((await ledger.createTransfer(posted('T\u00001', 'S', 'W', 1n))).status, 'id_invalid')
      })

      it('answers id_invalid for an account id with a NUL character', async () => {
        assert.deepEqual(await ledger.createAccounts([wallet('W\u00001')]), ['id_invalid'])
      })

      it('answers a status for NUL characters in account ids and pending ids', async () => {
        await openWorld()
        const answered = await ledger.createTransfers([
          posted('T1', 'S\u0000', 'W', 1n),
          { id: 'T2', type: 'post_pending', pendingId: 'P\u00001' },
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          ['debit_account_not_found', 'pending_transfer_not_found'],
        )
      })

      /** A reference is free text: it is either kept exactly as written or refused with a status. */
      async function assertReferenceKeptOrRefused(reference: string): Promise<void> {
        await openWorld()
        const input = posted('T1', 'S', 'W', 1n, { reference })
        const first = await ledger.createTransfer(input)
        if (first.status === 'created') {
          assert.equal((await ledger.createTransfer(input)).status, 'exists', 'an exact replay is not a modified request')
          assert.equal((await ledger.lookupTransfers(['T1']))[0]?.reference, reference, 'the stored reference is the one written')
        } else {
          assert.equal(first.status, 'reference_invalid', 'a reference the store cannot hold is refused as malformed')
          assert.equal(await journalSize(), 1n)
        }
      }

      it('keeps or refuses a reference with a NUL character, never throws', async () => {
        await assertReferenceKeptOrRefused('a\u0000b')
      })

      it('keeps or refuses a reference with a lone surrogate, so that an exact replay answers exists', async () => {
        await assertReferenceKeptOrRefused('half \uD800 of a surrogate pair')
      })

      it('answers a status, not an exception, for limits above the 64-bit maximum', async () => {
        await openWorld()
        const [created] = await ledger.createAccounts([wallet('BIG', { debitsLimitMinor: INT64_MAX + 1n })])
        assert.ok(created !== undefined && CREATE_ACCOUNT_STATUSES.includes(created))
        if (created === 'created') assert.equal((await ledger.lookupAccounts(['BIG']))[0]?.debitsLimitMinor, INT64_MAX + 1n)
        const updated = await ledger.setLimits({ accountId: 'W', debitsLimitMinor: 2n ** 64n, creditsLimitMinor: null })
        assert.ok(SET_LIMITS_STATUSES.includes(updated))
        if (updated === 'updated') assert.equal((await ledger.lookupAccounts(['W']))[0]?.debitsLimitMinor, 2n ** 64n)
      })
    })

    describe('linked chains through the store', () => {
      it('writes every member of a chain that succeeds', async () => {
        await openWorld()
        const answered = await ledger.createTransfers([
          posted('L1', 'S', 'W', 100n, { linked: true }),
          pending('L2', 'W', 'M', 60n, { linked: true }),
          { id: 'L3', type: 'post_pending', pendingId: 'L2', amountMinor: 50n },
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          ['created', 'created', 'created'],
        )
        assert.deepEqual(
          (await ledger.lookupTransfers(['L1', 'L2', 'L3'])).map((t) => t.id),
          ['L1', 'L2', 'L3'],
        )
        const [w] = await balances('W')
        assert.deepEqual(w, { ...zero, creditsPostedMinor: 100n, debitsPostedMinor: 50n })
      })

      it('writes nothing of a chain that fails, and the others of the submission still commit', async () => {
        await openWorld()
        const journal = await journalSize()
        const answered = await ledger.createTransfers([
          posted('L1', 'S', 'W', 100n, { linked: true }),
          posted('L2', 'W', 'M', 101n),
          posted('I1', 'S', 'M', 7n),
          posted('L3', 'S', 'W', 5n, { linked: true }),
        ])
        assert.deepEqual(
          answered.map((o) => o.status),
          ['linked_event_failed', 'exceeds_credits', 'created', 'linked_event_chain_open'],
        )
        assert.deepEqual(
          (await ledger.lookupTransfers(['L1', 'L2', 'I1', 'L3'])).map((t) => t.id),
          ['I1'],
        )
        assert.equal(await journalSize(), journal + 1n)
        assert.deepEqual(await balances('W'), [zero])
      })
    })

    describe('group commit', () => {
      it('resolves many concurrent submissions individually, with their own statuses, in few batches', async () => {
        await openWorld()
        let batches = 0
        const grouped = new BatchingLedger(testStore.store, { clock, onBatch: () => (batches += 1) })
        try {
          await grouped.createTransfer(posted('F1', 'S', 'W', 500n))
          batches = 0
          const spends = Array.from({ length: 100 }, (_, i) => posted(`spend-${i}`, 'W', 'M', 10n))
          const invalid = Array.from({ length: 20 }, (_, i) => posted(`zero-${i}`, 'S', 'M', 0n))
          const missing = Array.from({ length: 20 }, (_, i) => posted(`missing-${i}`, 'S', `nobody-${i}`, 1n))
          const inputs = [...spends, ...invalid, ...missing]
          const outcomes = await Promise.all(inputs.map((input) => grouped.createTransfer(input)))
          assert.ok(batches < inputs.length / 4, `${inputs.length} submissions were applied in ${batches} batches`)
          outcomes.forEach((o, i) => {
            if (o.status === 'created') assert.equal(o.transfer?.id, inputs[i]?.id, 'each submission gets its own outcome')
          })
          const spendStatuses = outcomes.slice(0, 100).map((o) => o.status)
          assert.equal(spendStatuses.filter((s) => s === 'created').length, 50)
          assert.equal(spendStatuses.filter((s) => s === 'exceeds_credits').length, 50)
          assert.deepEqual(
            outcomes.slice(100, 120).map((o) => o.status),
            invalid.map(() => 'amount_must_be_positive'),
          )
          assert.deepEqual(
            outcomes.slice(120).map((o) => o.status),
            missing.map(() => 'credit_account_not_found'),
          )
          const [w, m] = await balances('W', 'M')
          assert.deepEqual(w, { ...zero, creditsPostedMinor: 500n, debitsPostedMinor: 500n })
          assert.equal(m?.creditsPostedMinor, 500n)
        } finally {
          await grouped.close()
        }
      })

      it('keeps a concurrent submission with a bad op or a failing chain from failing the others', async () => {
        await openWorld()
        const submissions: TransferInput[][] = [
          [posted('A1', 'S', 'W', 10n)],
          [posted('BAD', 'S', 'W', -3n)],
          [posted('C1', 'S', 'W', 10n, { linked: true }), posted('C2', 'W', 'M', 1_000n)],
          [posted('A2', 'S', 'M', 10n)],
          [posted('A1', 'S', 'W', 11n)],
        ]
        const outcomes = await Promise.all(submissions.map((s) => ledger.createTransfers(s)))
        assert.deepEqual(
          outcomes.map((o) => o.map((x) => x.status)),
          [['created'], ['amount_must_be_positive'], ['linked_event_failed', 'exceeds_credits'], ['created'], ['exists_with_different_amount']],
        )
        assert.deepEqual(
          (await ledger.lookupTransfers(['A1', 'BAD', 'C1', 'C2', 'A2'])).map((t) => t.id),
          ['A1', 'A2'],
        )
      })

      it('stores a transfer exempt from the debits limit, counts it on the account, and keeps the limit for the rest', async () => {
        await open(settlement('HUB'), wallet('POS', { debitsLimitMinor: 100n }))
        // A net receiver's settlement takes its position past its cap of 100.
        const settled = await ledger.createTransfer(posted('settle', 'POS', 'HUB', 150n, { exemptFromDebitsLimit: true }))
        assert.equal(settled.status, 'created')
        assert.equal(settled.transfer?.exemptFromDebitsLimit, true)
        const [stored] = await ledger.lookupTransfers(['settle'])
        assert.equal(stored?.exemptFromDebitsLimit, true)
        const [pos] = await ledger.lookupAccounts(['POS'])
        assert.equal(pos?.debitsPostedMinor, 150n)
        assert.equal(pos?.debitsExemptMinor, 150n)
        assert.equal(pos?.debitsLimitMinor, 100n)
        // Nothing else may move it further; funds in make room again, up to the cap.
        assert.equal((await ledger.createTransfer(pending('prep1', 'POS', 'HUB', 1n))).status, 'exceeds_credits')
        assert.equal((await ledger.createTransfer(posted('fundsIn', 'HUB', 'POS', 100n))).status, 'created')
        assert.equal((await ledger.createTransfer(pending('prep2', 'POS', 'HUB', 51n))).status, 'exceeds_credits')
        assert.equal((await ledger.createTransfer(pending('prep3', 'POS', 'HUB', 50n))).status, 'created')
        // Replays: the same answers exists; without the flag it is a different transfer.
        assert.equal((await ledger.createTransfer(posted('settle', 'POS', 'HUB', 150n, { exemptFromDebitsLimit: true }))).status, 'exists')
        assert.equal((await ledger.createTransfer(posted('settle', 'POS', 'HUB', 150n))).status, 'exists_with_different_exemption')
        assert.equal((await ledger.createTransfer(pending('p-exempt', 'POS', 'HUB', 1n, { exemptFromDebitsLimit: true }))).status, 'exemption_reserved_for_posted_transfer')
        const [after] = await ledger.lookupAccounts(['POS'])
        assert.deepEqual(after === undefined ? undefined : counters(after), { debitsPendingMinor: 50n, debitsPostedMinor: 150n, creditsPendingMinor: 0n, creditsPostedMinor: 100n })
        assert.deepEqual((await checkLedger(testStore.store)).problems, [])
      })

      it('commits the others of a batch when the store refuses one submission', async () => {
        await openWorld()
        const results = await Promise.allSettled([
          ledger.createTransfer(posted('A1', 'S', 'W', 10n)),
          ledger.createAccounts([wallet('BIG', { debitsLimitMinor: 2n ** 64n })]),
          ledger.createTransfer(posted('A2', 'S', 'M', 10n)),
          ledger.createAccounts([wallet('W2')]),
        ])
        const statusOf = (r: PromiseSettledResult<unknown>): unknown => (r.status === 'fulfilled' ? r.value : `rejected: ${String(r.reason)}`)
        assert.deepEqual(statusOf(results[0] as PromiseSettledResult<unknown>), { status: 'created', transfer: (await ledger.lookupTransfers(['A1'])).map(row)[0] })
        assert.deepEqual(statusOf(results[2] as PromiseSettledResult<unknown>), { status: 'created', transfer: (await ledger.lookupTransfers(['A2'])).map(row)[0] })
        assert.deepEqual(statusOf(results[3] as PromiseSettledResult<unknown>), ['created'])
        assert.deepEqual(
          (await ledger.lookupAccounts(['BIG', 'W2'])).map((a) => a.id),
          ['W2'],
        )
      })
    })
  })
}
