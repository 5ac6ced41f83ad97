// SPDX-License-Identifier: Apache-2.0
/**
 * Unit tests of the ledger's pure rules (apply.ts). The precedence table follows TigerBeetle's "test errors
 * by descending precedence": each row gives an input that breaks its own rule AND later ones, and the
 * earlier rule must win. The snapshot is built by hand, so states that take billions of operations to reach
 * through the store (counters near the 64-bit maximum) are one line here.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_SCHEME_MAX_MINOR, INT64_MAX } from '../core/money.ts'
import { applyBatch, applyBatchAdopting, expiryId, isJournalId, referencedIds, type BatchSnapshot, type EventResult, type LedgerEvent } from './apply.ts'
import {
  CREATE_ACCOUNT_STATUSES,
  CREATE_TRANSFER_STATUSES,
  SET_LIMITS_STATUSES,
  type CreateAccountStatus,
  type CreateTransferStatus,
  type SetLimitsStatus,
} from './statuses.ts'
import type { Account, AccountInput, LimitsInput, StoredTransfer, TransferInput } from './types.ts'

const NOW_MS = Date.UTC(2026, 0, 1)
const NEAR_MAX = INT64_MAX - 5n

function anAccount(id: string, overrides: Partial<Account> = {}): Account {
  return {
    id,
    currency: 'USD',
    code: 'WALLET',
    debitsLimitMinor: null,
    creditsLimitMinor: null,
    debitsPendingMinor: 0n,
    debitsPostedMinor: 0n,
    creditsPendingMinor: 0n,
    creditsPostedMinor: 0n,
    createdAtMs: NOW_MS - 60_000,
    ...overrides,
  }
}

function aTransfer(id: string, overrides: Partial<StoredTransfer> = {}): StoredTransfer {
  const type = overrides.type ?? 'posted'
  return {
    id,
    type,
    debitAccountId: 'A',
    creditAccountId: 'B',
    amountMinor: 100n,
    currency: 'USD',
    pendingId: null,
    expiresAtMs: null,
    reference: null,
    createdAtMs: NOW_MS - 30_000,
    pendingState: type === 'pending' ? 'pending' : null,
    ...overrides,
  }
}

/**
 * One consistent world: A → B carries T1 (posted 50), POST1 (60 posted from PP) and three open pending
 * transfers of 100 (P1, PEXP, PX), so A's and B's counters match the journal below.
 */
const WORLD_TRANSFERS: readonly StoredTransfer[] = [
  aTransfer('T1', { amountMinor: 50n, reference: 'invoice-1' }),
  aTransfer('P1', { type: 'pending' }),
  aTransfer('PEXP', { type: 'pending', expiresAtMs: NOW_MS + 1_000, reference: 'hold-1' }),
  aTransfer('PX', { type: 'pending', expiresAtMs: NOW_MS - 1 }), // due, not yet swept
  aTransfer('PP', { type: 'pending', expiresAtMs: NOW_MS - 10, pendingState: 'posted' }),
  aTransfer('POST1', { type: 'post_pending', amountMinor: 60n, pendingId: 'PP' }),
  aTransfer('PV', { type: 'pending', expiresAtMs: NOW_MS - 10, pendingState: 'voided' }),
  aTransfer('VOID1', { type: 'void_pending', pendingId: 'PV' }),
  aTransfer('PE', { type: 'pending', expiresAtMs: NOW_MS - 20, pendingState: 'expired' }),
  aTransfer(expiryId('PE'), { type: 'expire_pending', pendingId: 'PE' }),
]

const WORLD_ACCOUNTS: readonly Account[] = [
  anAccount('A', { code: 'SETTLEMENT', debitsPendingMinor: 300n, debitsPostedMinor: 110n, creditsPostedMinor: 1_000_000n }),
  anAccount('B', { code: 'SETTLEMENT', creditsPendingMinor: 300n, creditsPostedMinor: 110n }),
  anAccount('W', { debitsLimitMinor: 0n }), // an empty wallet that may not overdraw
  anAccount('C', { creditsLimitMinor: 0n }), // may not be credited beyond what it was debited
  anAccount('E', { currency: 'EUR' }),
  anAccount('E2', { currency: 'EUR' }),
  anAccount('HI', { debitsPendingMinor: NEAR_MAX, debitsPostedMinor: NEAR_MAX }),
  anAccount('HC', { creditsPendingMinor: NEAR_MAX, creditsPostedMinor: NEAR_MAX }),
  anAccount('BOTH', { debitsPendingMinor: 10n, creditsPendingMinor: 10n }), // carries both sides, nothing posted
]

function world(extra: { accounts?: readonly Account[]; transfers?: readonly StoredTransfer[] } = {}): BatchSnapshot {
  return {
    accounts: new Map([...WORLD_ACCOUNTS, ...(extra.accounts ?? [])].map((a) => [a.id, a])),
    transfers: new Map([...WORLD_TRANSFERS, ...(extra.transfers ?? [])].map((t) => [t.id, t])),
  }
}

function transfers(inputs: readonly TransferInput[]): LedgerEvent[] {
  return inputs.map((input) => ({ kind: 'create_transfer', input }))
}

function run(snapshot: BatchSnapshot, submissions: readonly (readonly LedgerEvent[])[], nowMs = NOW_MS, schemeMaxMinor?: (c: string) => bigint) {
  return applyBatch(snapshot, submissions, schemeMaxMinor === undefined ? { nowMs } : { nowMs, schemeMaxMinor })
}

function statuses(results: readonly EventResult[]): string[] {
  return results.map((r) => r.status)
}

function transferStatuses(inputs: readonly TransferInput[], options: { snapshot?: BatchSnapshot; nowMs?: number } = {}): CreateTransferStatus[] {
  const { results } = run(options.snapshot ?? world(), [transfers(inputs)], options.nowMs)
  return (results[0] as EventResult[]).map((r) => r.status as CreateTransferStatus)
}

function transferStatus(input: TransferInput, options: { snapshot?: BatchSnapshot; nowMs?: number } = {}): CreateTransferStatus {
  return transferStatuses([input], options)[0] as CreateTransferStatus
}

function posted(id: string, overrides: Partial<TransferInput> = {}): TransferInput {
  return { id, type: 'posted', debitAccountId: 'A', creditAccountId: 'B', amountMinor: 10n, currency: 'USD', ...overrides }
}

function pending(id: string, overrides: Partial<TransferInput> = {}): TransferInput {
  return { ...posted(id, overrides), type: 'pending', ...overrides }
}

function accountIn(result: { writes: { accountsCreated: Account[]; accountsUpdated: Account[] } }, id: string): Account | undefined {
  return [...result.writes.accountsCreated, ...result.writes.accountsUpdated].find((a) => a.id === id)
}

function worldAccount(id: string): Account {
  const account = WORLD_ACCOUNTS.find((a) => a.id === id)
  assert.ok(account !== undefined)
  return account
}

interface PrecedenceRow {
  readonly status: CreateTransferStatus
  /** The later rules the input also breaks, for the reader and the test name. */
  readonly alsoBreaks: string
  readonly submission: readonly TransferInput[]
  /** Which event of the submission answers `status`; the last one when absent. */
  readonly index?: number
  readonly nowMs?: number
}

const LONG_REFERENCE = 'r'.repeat(129)

/** One row per CREATE_TRANSFER_STATUSES entry, in the same order. */
const PRECEDENCE: readonly PrecedenceRow[] = [
  {
    status: 'linked_event_failed',
    alsoBreaks: 'accounts_must_be_different, amount_must_be_positive (its own errors, after a chain member failed)',
    submission: [posted('bad id', { linked: true }), posted('L2', { creditAccountId: 'A', amountMinor: 0n })],
    index: 1,
  },
  {
    status: 'linked_event_chain_open',
    alsoBreaks: 'id_invalid, amount_must_be_positive (a linked transfer that ends the submission)',
    submission: [posted('bad id', { linked: true, amountMinor: 0n })],
  },
  {
    status: 'id_invalid',
    alsoBreaks: 'reference_invalid, pending_id_must_be_empty, expiry_reserved_for_pending_transfer',
    submission: [posted('has space', { reference: LONG_REFERENCE, pendingId: 'P1', expiresAtMs: NOW_MS + 1 })],
  },
  {
    status: 'reference_invalid',
    alsoBreaks: 'pending_id_must_be_empty, expiry_reserved_for_pending_transfer, amount_must_be_positive',
    submission: [posted('X1', { reference: LONG_REFERENCE, pendingId: 'P1', expiresAtMs: NOW_MS + 1, amountMinor: 0n })],
  },
  {
    status: 'pending_id_must_be_empty',
    alsoBreaks: 'expiry_reserved_for_pending_transfer, debit_account_id_must_not_be_empty',
    submission: [posted('X1', { pendingId: 'P1', expiresAtMs: NOW_MS + 1, debitAccountId: '' })],
  },
  {
    status: 'pending_id_must_not_be_empty',
    alsoBreaks: 'expiry_reserved_for_pending_transfer, amount_must_be_positive',
    submission: [{ id: 'X1', type: 'post_pending', pendingId: '', expiresAtMs: NOW_MS + 1, amountMinor: 0n }],
  },
  {
    status: 'pending_id_must_be_different',
    alsoBreaks: 'expiry_reserved_for_pending_transfer, accounts_must_be_different',
    submission: [{ id: 'X1', type: 'void_pending', pendingId: 'X1', expiresAtMs: NOW_MS + 1, debitAccountId: 'A', creditAccountId: 'A' }],
  },
  {
    status: 'expiry_reserved_for_pending_transfer',
    alsoBreaks: 'expiry_invalid, debit_account_id_must_not_be_empty',
    submission: [{ id: 'X1', type: 'posted', expiresAtMs: -1, creditAccountId: 'B', amountMinor: 10n, currency: 'USD' }],
  },
  {
    status: 'expiry_invalid',
    alsoBreaks: 'debit_account_id_must_not_be_empty, amount_must_be_positive',
    submission: [{ id: 'X1', type: 'pending', expiresAtMs: NOW_MS + 0.5, creditAccountId: 'B', amountMinor: 0n, currency: 'USD' }],
  },
  {
    status: 'exemption_reserved_for_posted_transfer',
    alsoBreaks: 'debit_account_id_must_not_be_empty, amount_must_be_positive',
    submission: [{ id: 'X1', type: 'pending', exemptFromDebitsLimit: true, creditAccountId: 'B', amountMinor: 0n, currency: 'USD' }],
  },
  {
    status: 'debit_account_id_must_not_be_empty',
    alsoBreaks: 'credit_account_id_must_not_be_empty, amount_must_be_positive',
    submission: [{ id: 'X1', type: 'posted', amountMinor: 0n, currency: 'USD' }],
  },
  {
    status: 'credit_account_id_must_not_be_empty',
    alsoBreaks: 'amount_must_be_positive, currency_unknown',
    submission: [{ id: 'X1', type: 'posted', debitAccountId: 'A', creditAccountId: '', amountMinor: 0n, currency: 'ZZZ' }],
  },
  {
    status: 'accounts_must_be_different',
    alsoBreaks: 'amount_must_be_positive, currency_unknown',
    submission: [posted('X1', { creditAccountId: 'A', amountMinor: 0n, currency: 'ZZZ' })],
  },
  {
    status: 'amount_must_be_positive',
    alsoBreaks: 'currency_unknown, debit_account_not_found',
    submission: [posted('X1', { amountMinor: -5n, currency: 'ZZZ', debitAccountId: 'nobody' })],
  },
  {
    status: 'currency_unknown',
    alsoBreaks: 'amount_exceeds_scheme_max, debit_account_not_found, credit_account_not_found',
    submission: [posted('X1', { amountMinor: DEFAULT_SCHEME_MAX_MINOR + 1n, currency: 'usd', debitAccountId: 'nobody', creditAccountId: 'nobody-else' })],
  },
  {
    status: 'amount_exceeds_scheme_max',
    alsoBreaks: 'debit_account_not_found',
    submission: [posted('X1', { amountMinor: DEFAULT_SCHEME_MAX_MINOR + 1n, debitAccountId: 'nobody' })],
  },
  {
    status: 'debit_account_not_found',
    alsoBreaks: 'credit_account_not_found',
    submission: [posted('X1', { debitAccountId: 'nobody', creditAccountId: 'nobody-else' })],
  },
  {
    status: 'credit_account_not_found',
    alsoBreaks: 'currency_must_match_accounts',
    submission: [posted('X1', { creditAccountId: 'nobody', currency: 'EUR' })],
  },
  {
    status: 'currency_must_match_accounts',
    alsoBreaks: 'exists_with_different_type, exists_with_different_currency',
    submission: [pending('T1', { currency: 'EUR' })],
  },
  {
    status: 'exists_with_different_type',
    alsoBreaks: 'exists_with_different_debit_account_id, exists_with_different_amount',
    submission: [pending('T1', { debitAccountId: 'W', amountMinor: 1n })],
  },
  {
    status: 'exists_with_different_debit_account_id',
    alsoBreaks: 'exists_with_different_credit_account_id, exists_with_different_amount, exists_with_different_reference',
    submission: [posted('T1', { debitAccountId: 'W', creditAccountId: 'C', amountMinor: 1n, reference: 'other' })],
  },
  {
    status: 'exists_with_different_credit_account_id',
    alsoBreaks: 'exists_with_different_amount, exists_with_different_reference',
    submission: [posted('T1', { creditAccountId: 'C', amountMinor: 1n, reference: 'other' })],
  },
  {
    status: 'exists_with_different_amount',
    alsoBreaks: 'exists_with_different_currency, exists_with_different_pending_id, exists_with_different_reference',
    submission: [{ id: 'POST1', type: 'post_pending', pendingId: 'P1', amountMinor: 61n, currency: 'EUR', reference: 'other' }],
  },
  {
    status: 'exists_with_different_currency',
    alsoBreaks: 'exists_with_different_pending_id, exists_with_different_reference',
    submission: [{ id: 'POST1', type: 'post_pending', pendingId: 'P1', amountMinor: 60n, currency: 'EUR', reference: 'other' }],
  },
  {
    status: 'exists_with_different_pending_id',
    alsoBreaks: 'exists_with_different_reference, pending_transfer_already_posted',
    submission: [{ id: 'POST1', type: 'post_pending', pendingId: 'P1', reference: 'other' }],
  },
  {
    status: 'exists_with_different_expiry',
    alsoBreaks: 'exists_with_different_reference',
    submission: [pending('PEXP', { amountMinor: 100n, expiresAtMs: NOW_MS + 2_000, reference: 'other' })],
  },
  {
    status: 'exists_with_different_reference',
    alsoBreaks: 'expiry_must_be_in_future (the stored expiry has passed)',
    submission: [pending('PEXP', { amountMinor: 100n, expiresAtMs: NOW_MS + 1_000, reference: 'other' })],
    nowMs: NOW_MS + 5_000,
  },
  {
    status: 'exists_with_different_exemption',
    alsoBreaks: 'nothing later (a posted transfer replayed as exempt from the debits limit)',
    submission: [posted('T1', { amountMinor: 50n, reference: 'invoice-1', exemptFromDebitsLimit: true })],
  },
  {
    status: 'exists',
    alsoBreaks: 'expiry_must_be_in_future (a replay after the reservation expired)',
    submission: [pending('PEXP', { amountMinor: 100n, expiresAtMs: NOW_MS + 1_000, reference: 'hold-1' })],
    nowMs: NOW_MS + 5_000,
  },
  {
    status: 'pending_transfer_not_found',
    alsoBreaks: 'nothing more can be checked without the pending transfer',
    submission: [{ id: 'X1', type: 'post_pending', pendingId: 'nobody', amountMinor: 10n ** 12n, debitAccountId: 'W' }],
  },
  {
    status: 'pending_transfer_not_pending',
    alsoBreaks: 'pending_transfer_has_different_debit_account_id, exceeds_pending_transfer_amount',
    submission: [{ id: 'X1', type: 'post_pending', pendingId: 'T1', debitAccountId: 'W', amountMinor: 51n }],
  },
  {
    status: 'pending_transfer_has_different_debit_account_id',
    alsoBreaks: 'pending_transfer_has_different_credit_account_id, pending_transfer_already_posted',
    submission: [{ id: 'X1', type: 'post_pending', pendingId: 'PP', debitAccountId: 'W', creditAccountId: 'C' }],
  },
  {
    status: 'pending_transfer_has_different_credit_account_id',
    alsoBreaks: 'pending_transfer_has_different_currency, pending_transfer_already_posted',
    submission: [{ id: 'X1', type: 'post_pending', pendingId: 'PP', creditAccountId: 'C', currency: 'EUR' }],
  },
  {
    status: 'pending_transfer_has_different_currency',
    alsoBreaks: 'exceeds_pending_transfer_amount, pending_transfer_already_posted',
    submission: [{ id: 'X1', type: 'post_pending', pendingId: 'PP', currency: 'EUR', amountMinor: 101n }],
  },
  {
    status: 'exceeds_pending_transfer_amount',
    alsoBreaks: 'pending_transfer_already_posted',
    submission: [{ id: 'X1', type: 'post_pending', pendingId: 'PP', amountMinor: 101n }],
  },
  {
    status: 'pending_transfer_has_different_amount',
    alsoBreaks: 'pending_transfer_already_voided',
    submission: [{ id: 'X1', type: 'void_pending', pendingId: 'PV', amountMinor: 99n }],
  },
  {
    status: 'pending_transfer_already_posted',
    alsoBreaks: 'pending_transfer_expired (its expiry has passed too)',
    submission: [{ id: 'X1', type: 'void_pending', pendingId: 'PP' }],
  },
  {
    status: 'pending_transfer_already_voided',
    alsoBreaks: 'pending_transfer_expired (its expiry has passed too)',
    submission: [{ id: 'X1', type: 'post_pending', pendingId: 'PV' }],
  },
  {
    status: 'pending_transfer_expired',
    alsoBreaks: 'nothing later applies to a resolution: due but not yet swept',
    submission: [{ id: 'X1', type: 'post_pending', pendingId: 'PX', amountMinor: 100n }],
  },
  {
    status: 'expiry_must_be_in_future',
    alsoBreaks: 'overflows_debits, overflows_credits',
    submission: [pending('X1', { debitAccountId: 'HI', creditAccountId: 'HC', expiresAtMs: NOW_MS })],
  },
  {
    status: 'overflows_debits',
    alsoBreaks: 'overflows_credits',
    submission: [pending('X1', { debitAccountId: 'HI', creditAccountId: 'HC' })],
  },
  {
    status: 'overflows_credits',
    alsoBreaks: 'exceeds_credits',
    submission: [posted('X1', { debitAccountId: 'W', creditAccountId: 'HC' })],
  },
  {
    status: 'exceeds_credits',
    alsoBreaks: 'exceeds_debits',
    submission: [posted('X1', { debitAccountId: 'W', creditAccountId: 'C' })],
  },
  {
    status: 'exceeds_debits',
    alsoBreaks: 'no later rule',
    submission: [posted('X1', { creditAccountId: 'C' })],
  },
  {
    status: 'created',
    alsoBreaks: 'no rule',
    submission: [posted('X1')],
  },
]

describe('CREATE_TRANSFER_STATUSES precedence, row by row', () => {
  it('has exactly one row per status, in the documented order', () => {
    assert.deepEqual(
      PRECEDENCE.map((row) => row.status),
      [...CREATE_TRANSFER_STATUSES],
    )
  })

  for (const row of PRECEDENCE) {
    it(`${row.status} wins over ${row.alsoBreaks}`, () => {
      const answered = transferStatuses(row.submission, row.nowMs === undefined ? {} : { nowMs: row.nowMs })
      assert.equal(answered[row.index ?? row.submission.length - 1], row.status)
    })
  }

  it('writes nothing for any failing row', () => {
    for (const row of PRECEDENCE.filter((r) => r.status !== 'created')) {
      const { writes } = run(world(), [transfers(row.submission)], row.nowMs ?? NOW_MS)
      assert.deepEqual(writes.transfersCreated, [], `${row.status} wrote a journal row`)
      assert.deepEqual(writes.accountsCreated, [], `${row.status} created an account`)
    }
  })
})

describe('create_transfer rules beyond precedence', () => {
  it('answers created for a posted transfer and moves posted counters on both sides', () => {
    const result = run(world(), [transfers([posted('X1', { amountMinor: 25n, reference: 'order-7' })])])
    const [outcome] = result.results[0] as EventResult[]
    assert.equal(outcome?.status, 'created')
    assert.deepEqual(result.writes.transfersCreated, [
      {
        id: 'X1',
        type: 'posted',
        debitAccountId: 'A',
        creditAccountId: 'B',
        amountMinor: 25n,
        currency: 'USD',
        pendingId: null,
        expiresAtMs: null,
        reference: 'order-7',
        createdAtMs: NOW_MS,
      },
    ])
    assert.equal(accountIn(result, 'A')?.debitsPostedMinor, worldAccount('A').debitsPostedMinor + 25n)
    assert.equal(accountIn(result, 'B')?.creditsPostedMinor, worldAccount('B').creditsPostedMinor + 25n)
    assert.equal(accountIn(result, 'A')?.debitsPendingMinor, worldAccount('A').debitsPendingMinor)
  })

  it('reserves with a pending transfer and opens its expiry', () => {
    const result = run(world(), [transfers([pending('X1', { amountMinor: 40n, expiresAtMs: NOW_MS + 500 })])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['created'])
    assert.equal(accountIn(result, 'A')?.debitsPendingMinor, worldAccount('A').debitsPendingMinor + 40n)
    assert.equal(accountIn(result, 'B')?.creditsPendingMinor, worldAccount('B').creditsPendingMinor + 40n)
    assert.equal(accountIn(result, 'A')?.debitsPostedMinor, worldAccount('A').debitsPostedMinor)
    assert.deepEqual(result.writes.expiriesOpened, [{ id: 'X1', expiresAtMs: NOW_MS + 500 }])
  })

  it('uses the scheme maximum per currency when one is configured, and allows exactly the maximum', () => {
    const max = (currency: string): bigint => (currency === 'USD' ? 1_000n : DEFAULT_SCHEME_MAX_MINOR)
    const inputs = transfers([posted('X1', { amountMinor: 1_001n }), posted('X2', { amountMinor: 1_000n })])
    const { results } = run(world(), [inputs], NOW_MS, max)
    assert.deepEqual(statuses(results[0] as EventResult[]), ['amount_exceeds_scheme_max', 'created'])
  })

  it('answers amount_must_be_positive when a posted or pending transfer has no amount at all', () => {
    const noAmount: TransferInput = { id: 'X1', type: 'posted', debitAccountId: 'A', creditAccountId: 'B', currency: 'USD' }
    assert.equal(transferStatus(noAmount), 'amount_must_be_positive')
    assert.equal(transferStatus({ ...noAmount, type: 'pending' }), 'amount_must_be_positive')
  })

  it('answers currency_unknown when a posted transfer has no currency', () => {
    const noCurrency: TransferInput = { id: 'X1', type: 'posted', debitAccountId: 'A', creditAccountId: 'B', amountMinor: 10n }
    assert.equal(transferStatus(noCurrency), 'currency_unknown')
  })

  it('accepts ids of exactly 64 characters and refuses 65, the reserved ~ and the empty id', () => {
    assert.equal(transferStatus(posted('a'.repeat(64))), 'created')
    assert.equal(transferStatus(posted('a'.repeat(65))), 'id_invalid')
    assert.equal(transferStatus(posted('a~b')), 'id_invalid')
    assert.equal(transferStatus(posted('')), 'id_invalid')
    assert.equal(transferStatus(posted(expiryId('P1'))), 'id_invalid')
  })

  it('accepts a reference of exactly 128 characters', () => {
    assert.equal(transferStatus(posted('X1', { reference: 'r'.repeat(128) })), 'created')
    assert.equal(transferStatus(posted('X2', { reference: 'r'.repeat(129) })), 'reference_invalid')
  })

  it('lets a debit reach the limit exactly and refuses one minor unit more', () => {
    const snapshot = world({ accounts: [anAccount('F', { debitsLimitMinor: 30n, creditsPostedMinor: 70n })] })
    assert.deepEqual(transferStatuses([posted('X1', { debitAccountId: 'F', amountMinor: 100n })], { snapshot }), ['created'])
    assert.deepEqual(transferStatuses([posted('X1', { debitAccountId: 'F', amountMinor: 101n })], { snapshot }), ['exceeds_credits'])
  })

  it('counts reservations against the debit limit, and only posted credits towards it', () => {
    const snapshot = world({ accounts: [anAccount('F', { debitsLimitMinor: 0n, creditsPostedMinor: 100n, creditsPendingMinor: 1_000n })] })
    const answered = transferStatuses([pending('X1', { debitAccountId: 'F', amountMinor: 60n }), posted('X2', { debitAccountId: 'F', amountMinor: 41n })], {
      snapshot,
    })
    assert.deepEqual(answered, ['created', 'exceeds_credits'])
  })

  it('lets a credit reach the credits limit exactly and refuses one more', () => {
    const snapshot = world({ accounts: [anAccount('G', { creditsLimitMinor: 5n, debitsPostedMinor: 20n })] })
    assert.deepEqual(transferStatuses([posted('X1', { creditAccountId: 'G', amountMinor: 25n })], { snapshot }), ['created'])
    assert.deepEqual(transferStatuses([posted('X1', { creditAccountId: 'G', amountMinor: 26n })], { snapshot }), ['exceeds_debits'])
  })

  it('applies the events of one batch in order: a later event sees an earlier one', () => {
    const answered = transferStatuses([
      posted('X1', { debitAccountId: 'W' }), // the wallet is empty
      posted('X2', { creditAccountId: 'W', amountMinor: 10n }), // fund it
      posted('X3', { debitAccountId: 'W', amountMinor: 10n }), // now it can pay
      posted('X4', { debitAccountId: 'W', amountMinor: 1n }), // and is empty again
      posted('X3', { debitAccountId: 'W', amountMinor: 10n }), // a replay in the same batch
    ])
    assert.deepEqual(answered, ['exceeds_credits', 'created', 'created', 'exceeds_credits', 'exists'])
  })

  it('answers expiry_must_be_in_future for an expiry equal to now, and accepts now + 1 ms', () => {
    assert.equal(transferStatus(pending('X1', { expiresAtMs: NOW_MS })), 'expiry_must_be_in_future')
    assert.equal(transferStatus(pending('X1', { expiresAtMs: NOW_MS + 1 })), 'created')
  })

  it('refuses an expiry that is not a positive safe integer', () => {
    for (const expiresAtMs of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2]) {
      assert.equal(transferStatus(pending('X1', { expiresAtMs })), 'expiry_invalid', `expiresAtMs ${expiresAtMs}`)
    }
  })

  it('answers overflows_debits when posting a pending transfer would carry debits_posted past the 64-bit maximum', () => {
    // Found by this suite: posting is checked against no overflow at all ("posting and voiding never raise a
    // balance"), yet a post raises debits_posted and credits_posted by the amount it posts.
    const snapshot = world({
      accounts: [anAccount('HP', { debitsPostedMinor: NEAR_MAX, debitsPendingMinor: 10n }), anAccount('R', { creditsPendingMinor: 10n })],
      transfers: [aTransfer('PHI', { type: 'pending', debitAccountId: 'HP', creditAccountId: 'R', amountMinor: 10n })],
    })
    assert.equal(transferStatus({ id: 'X1', type: 'post_pending', pendingId: 'PHI' }, { snapshot }), 'overflows_debits')
  })

  it('answers overflows_credits when posting a pending transfer would carry credits_posted past the 64-bit maximum', () => {
    const snapshot = world({
      accounts: [anAccount('S', { debitsPendingMinor: 10n }), anAccount('HR', { creditsPostedMinor: NEAR_MAX, creditsPendingMinor: 10n })],
      transfers: [aTransfer('PHC', { type: 'pending', debitAccountId: 'S', creditAccountId: 'HR', amountMinor: 10n })],
    })
    assert.equal(transferStatus({ id: 'X1', type: 'post_pending', pendingId: 'PHC' }, { snapshot }), 'overflows_credits')
  })
})

describe('two-phase: partial post and void', () => {
  it('posts in full by default: pending released, the whole amount posted', () => {
    const result = run(world(), [transfers([{ id: 'X1', type: 'post_pending', pendingId: 'P1' }])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['created'])
    const a = accountIn(result, 'A')
    const b = accountIn(result, 'B')
    assert.equal(a?.debitsPendingMinor, worldAccount('A').debitsPendingMinor - 100n)
    assert.equal(a?.debitsPostedMinor, worldAccount('A').debitsPostedMinor + 100n)
    assert.equal(b?.creditsPendingMinor, worldAccount('B').creditsPendingMinor - 100n)
    assert.equal(b?.creditsPostedMinor, worldAccount('B').creditsPostedMinor + 100n)
    const [row] = result.writes.transfersCreated
    assert.equal(row?.type, 'post_pending')
    assert.equal(row?.amountMinor, 100n)
    assert.equal(row?.pendingId, 'P1')
    assert.equal(row?.debitAccountId, 'A')
    assert.equal(row?.creditAccountId, 'B')
    assert.deepEqual(result.writes.expiriesClosed, [], 'P1 has no expiry, so no expiry row to remove')
  })

  it('posts in part: the whole reservation is released and only the posted part moves', () => {
    const result = run(world(), [transfers([{ id: 'X1', type: 'post_pending', pendingId: 'PEXP', amountMinor: 30n, reference: 'partial' }])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['created'])
    assert.equal(accountIn(result, 'A')?.debitsPendingMinor, worldAccount('A').debitsPendingMinor - 100n)
    assert.equal(accountIn(result, 'A')?.debitsPostedMinor, worldAccount('A').debitsPostedMinor + 30n)
    assert.equal(accountIn(result, 'B')?.creditsPendingMinor, worldAccount('B').creditsPendingMinor - 100n)
    assert.equal(accountIn(result, 'B')?.creditsPostedMinor, worldAccount('B').creditsPostedMinor + 30n)
    assert.equal(result.writes.transfersCreated[0]?.amountMinor, 30n)
    assert.equal(result.writes.transfersCreated[0]?.reference, 'partial')
    assert.deepEqual(result.writes.expiriesClosed, [{ id: 'PEXP', expiresAtMs: NOW_MS + 1_000 }])
  })

  it('posts exactly the pending amount when it is given, and refuses one more', () => {
    assert.equal(transferStatus({ id: 'X1', type: 'post_pending', pendingId: 'P1', amountMinor: 100n }), 'created')
    assert.equal(transferStatus({ id: 'X1', type: 'post_pending', pendingId: 'P1', amountMinor: 101n }), 'exceeds_pending_transfer_amount')
    assert.equal(transferStatus({ id: 'X1', type: 'post_pending', pendingId: 'P1', amountMinor: 0n }), 'amount_must_be_positive')
  })

  it('accepts matching accounts and currency on a post, and refuses the same account twice', () => {
    const full = { id: 'X1', type: 'post_pending', pendingId: 'P1', debitAccountId: 'A', creditAccountId: 'B', currency: 'USD' } as const
    assert.equal(transferStatus(full), 'created')
    assert.equal(transferStatus({ ...full, creditAccountId: 'A' }), 'accounts_must_be_different')
  })

  it('voids: the reservation is released and nothing is posted', () => {
    const result = run(world(), [transfers([{ id: 'X1', type: 'void_pending', pendingId: 'P1' }])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['created'])
    assert.equal(accountIn(result, 'A')?.debitsPendingMinor, worldAccount('A').debitsPendingMinor - 100n)
    assert.equal(accountIn(result, 'A')?.debitsPostedMinor, worldAccount('A').debitsPostedMinor)
    assert.equal(accountIn(result, 'B')?.creditsPendingMinor, worldAccount('B').creditsPendingMinor - 100n)
    assert.equal(accountIn(result, 'B')?.creditsPostedMinor, worldAccount('B').creditsPostedMinor)
    assert.equal(result.writes.transfersCreated[0]?.type, 'void_pending')
    assert.equal(result.writes.transfersCreated[0]?.amountMinor, 100n, 'a void records the amount it released')
  })

  it('voids with the whole amount named, and refuses any other amount', () => {
    assert.equal(transferStatus({ id: 'X1', type: 'void_pending', pendingId: 'P1', amountMinor: 100n }), 'created')
    assert.equal(transferStatus({ id: 'X1', type: 'void_pending', pendingId: 'P1', amountMinor: 40n }), 'pending_transfer_has_different_amount')
  })

  it('resolves a pending transfer at most once in a batch: the second post or void is refused', () => {
    const answered = transferStatuses([
      { id: 'X1', type: 'post_pending', pendingId: 'P1', amountMinor: 10n },
      { id: 'X2', type: 'void_pending', pendingId: 'P1' },
      { id: 'X3', type: 'post_pending', pendingId: 'P1' },
    ])
    assert.deepEqual(answered, ['created', 'pending_transfer_already_posted', 'pending_transfer_already_posted'])
  })

  it('answers the resolved state of a voided and an expired pending transfer', () => {
    assert.equal(transferStatus({ id: 'X1', type: 'void_pending', pendingId: 'PV' }), 'pending_transfer_already_voided')
    assert.equal(transferStatus({ id: 'X1', type: 'void_pending', pendingId: 'PE' }), 'pending_transfer_expired')
    assert.equal(transferStatus({ id: 'X1', type: 'post_pending', pendingId: 'VOID1' }), 'pending_transfer_not_pending')
  })

  it('creates and resolves a pending transfer in one batch, leaving no expiry open', () => {
    const result = run(world(), [transfers([pending('X1', { expiresAtMs: NOW_MS + 100 }), { id: 'X2', type: 'post_pending', pendingId: 'X1' }])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['created', 'created'])
    assert.deepEqual(result.writes.expiriesOpened, [{ id: 'X1', expiresAtMs: NOW_MS + 100 }])
    assert.deepEqual(result.writes.expiriesClosed, [{ id: 'X1', expiresAtMs: NOW_MS + 100 }])
    assert.equal(accountIn(result, 'A')?.debitsPendingMinor, worldAccount('A').debitsPendingMinor)
  })
})

describe('expiry', () => {
  function expire(pendingId: string, nowMs: number, snapshot = world()) {
    const result = run(snapshot, [[{ kind: 'expire_pending', pendingId }]], nowMs)
    return { result, outcome: (result.results[0] as EventResult[])[0] as Extract<EventResult, { kind: 'expire_pending' }> }
  }

  it('is not due one millisecond before the expiry', () => {
    const { outcome, result } = expire('PEXP', NOW_MS + 999)
    assert.equal(outcome.status, 'not_due')
    assert.deepEqual(result.writes.transfersCreated, [])
  })

  it('is due at the expiry itself: the reservation is released and an expire_pending row recorded', () => {
    const { outcome, result } = expire('PEXP', NOW_MS + 1_000)
    assert.equal(outcome.status, 'expired')
    assert.equal(outcome.transfer?.id, expiryId('PEXP'))
    assert.equal(outcome.transfer?.type, 'expire_pending')
    assert.equal(outcome.transfer?.pendingId, 'PEXP')
    assert.equal(outcome.transfer?.amountMinor, 100n)
    assert.equal(accountIn(result, 'A')?.debitsPendingMinor, worldAccount('A').debitsPendingMinor - 100n)
    assert.equal(accountIn(result, 'A')?.debitsPostedMinor, worldAccount('A').debitsPostedMinor)
    assert.equal(accountIn(result, 'B')?.creditsPendingMinor, worldAccount('B').creditsPendingMinor - 100n)
    assert.deepEqual(result.writes.expiriesClosed, [{ id: 'PEXP', expiresAtMs: NOW_MS + 1_000 }])
  })

  it('expires an overdue transfer long after its expiry', () => {
    assert.equal(expire('PX', NOW_MS + 86_400_000).outcome.status, 'expired')
  })

  it('never expires a pending transfer without an expiry', () => {
    assert.equal(expire('P1', Number.MAX_SAFE_INTEGER).outcome.status, 'not_due')
  })

  it('answers already_resolved for posted, voided and expired transfers', () => {
    for (const id of ['PP', 'PV', 'PE']) assert.equal(expire(id, NOW_MS + 86_400_000).outcome.status, 'already_resolved', id)
  })

  it('answers pending_transfer_not_found and pending_transfer_not_pending', () => {
    assert.equal(expire('nobody', NOW_MS).outcome.status, 'pending_transfer_not_found')
    assert.equal(expire('T1', NOW_MS).outcome.status, 'pending_transfer_not_pending')
    assert.equal(expire('POST1', NOW_MS).outcome.status, 'pending_transfer_not_pending')
  })

  it('expires once: a second expiry of the same transfer in a batch is already_resolved', () => {
    const result = run(world(), [[{ kind: 'expire_pending', pendingId: 'PX' }], [{ kind: 'expire_pending', pendingId: 'PX' }]])
    assert.deepEqual(result.results.map(statuses), [['expired'], ['already_resolved']])
    assert.equal(result.writes.transfersCreated.length, 1)
  })

  it('refuses to post a reservation that is due, whether swept or not, and allows it a millisecond before', () => {
    const post = { id: 'X1', type: 'post_pending', pendingId: 'PEXP' } as const
    assert.equal(transferStatus(post, { nowMs: NOW_MS + 999 }), 'created')
    assert.equal(transferStatus(post, { nowMs: NOW_MS + 1_000 }), 'pending_transfer_expired')
    assert.equal(transferStatus({ ...post, type: 'void_pending' }, { nowMs: NOW_MS + 1_000 }), 'pending_transfer_expired')
    assert.equal(transferStatus({ ...post, pendingId: 'PE' }), 'pending_transfer_expired')
  })
})

describe('exists and exists_with_different_* for every field', () => {
  /** Each field, changed alone on a replay of a stored transfer, and the status it must get. */
  const CASES: readonly { field: string; input: TransferInput; status: CreateTransferStatus; nowMs?: number }[] = [
    { field: 'nothing (posted)', input: posted('T1', { amountMinor: 50n, reference: 'invoice-1' }), status: 'exists' },
    { field: 'type', input: pending('T1', { amountMinor: 50n, reference: 'invoice-1' }), status: 'exists_with_different_type' },
    { field: 'debitAccountId', input: posted('T1', { debitAccountId: 'W', amountMinor: 50n, reference: 'invoice-1' }), status: 'exists_with_different_debit_account_id' },
    {
      field: 'creditAccountId',
      input: posted('T1', { creditAccountId: 'C', amountMinor: 50n, reference: 'invoice-1' }),
      status: 'exists_with_different_credit_account_id',
    },
    { field: 'amountMinor', input: posted('T1', { amountMinor: 51n, reference: 'invoice-1' }), status: 'exists_with_different_amount' },
    // A posted transfer's currency must match its accounts, which answers first: a post names it freely.
    { field: 'currency (posted)', input: posted('T1', { amountMinor: 50n, reference: 'invoice-1', currency: 'EUR' }), status: 'currency_must_match_accounts' },
    { field: 'currency', input: { id: 'POST1', type: 'post_pending', pendingId: 'PP', currency: 'EUR' }, status: 'exists_with_different_currency' },
    { field: 'pendingId', input: { id: 'POST1', type: 'post_pending', pendingId: 'P1' }, status: 'exists_with_different_pending_id' },
    { field: 'expiresAtMs', input: pending('PEXP', { amountMinor: 100n, expiresAtMs: NOW_MS + 1_001, reference: 'hold-1' }), status: 'exists_with_different_expiry' },
    { field: 'expiresAtMs omitted', input: pending('PEXP', { amountMinor: 100n, reference: 'hold-1' }), status: 'exists_with_different_expiry' },
    { field: 'reference', input: posted('T1', { amountMinor: 50n, reference: 'invoice-2' }), status: 'exists_with_different_reference' },
    { field: 'reference omitted', input: posted('T1', { amountMinor: 50n }), status: 'exists_with_different_reference' },
    { field: 'nothing (pending)', input: pending('PEXP', { amountMinor: 100n, expiresAtMs: NOW_MS + 1_000, reference: 'hold-1' }), status: 'exists' },
    { field: 'nothing (post, full)', input: { id: 'POST1', type: 'post_pending', pendingId: 'PP', amountMinor: 60n }, status: 'exists' },
    { field: 'nothing (post, amount omitted)', input: { id: 'POST1', type: 'post_pending', pendingId: 'PP' }, status: 'exists' },
    { field: 'nothing (post, every field)', input: { id: 'POST1', type: 'post_pending', pendingId: 'PP', debitAccountId: 'A', creditAccountId: 'B', currency: 'USD' }, status: 'exists' },
    { field: 'post amount', input: { id: 'POST1', type: 'post_pending', pendingId: 'PP', amountMinor: 59n }, status: 'exists_with_different_amount' },
    { field: 'post debitAccountId', input: { id: 'POST1', type: 'post_pending', pendingId: 'PP', debitAccountId: 'W' }, status: 'exists_with_different_debit_account_id' },
    { field: 'post creditAccountId', input: { id: 'POST1', type: 'post_pending', pendingId: 'PP', creditAccountId: 'C' }, status: 'exists_with_different_credit_account_id' },
    { field: 'post reference', input: { id: 'POST1', type: 'post_pending', pendingId: 'PP', reference: 'x' }, status: 'exists_with_different_reference' },
    { field: 'nothing (void)', input: { id: 'VOID1', type: 'void_pending', pendingId: 'PV' }, status: 'exists' },
    { field: 'void type', input: { id: 'VOID1', type: 'post_pending', pendingId: 'PV' }, status: 'exists_with_different_type' },
  ]

  for (const c of CASES) {
    it(`a replay differing in ${c.field} answers ${c.status} and writes nothing`, () => {
      const result = run(world(), [transfers([c.input])], c.nowMs ?? NOW_MS)
      const outcome = (result.results[0] as EventResult[])[0] as Extract<EventResult, { kind: 'create_transfer' }>
      assert.equal(outcome.status, c.status)
      assert.deepEqual(result.writes.transfersCreated, [])
      assert.deepEqual(result.writes.accountsUpdated, [])
      if (c.status === 'exists') assert.equal(outcome.transfer?.id, c.input.id, 'exists returns the stored transfer')
      else assert.equal(outcome.transfer, undefined)
    })
  }

  it('answers exists for a replayed void, not pending_transfer_already_voided', () => {
    assert.equal(transferStatus({ id: 'VOID1', type: 'void_pending', pendingId: 'PV', amountMinor: 100n }), 'exists')
  })

  it('answers exists for a replayed payment even when the payer could no longer afford it', () => {
    const snapshot = world({ transfers: [aTransfer('WPAY', { debitAccountId: 'W', creditAccountId: 'B', amountMinor: 5n })] })
    assert.equal(transferStatus(posted('WPAY', { debitAccountId: 'W', amountMinor: 5n }), { snapshot }), 'exists')
  })

  it('returns the stored transfer itself on exists, not the replayed input', () => {
    const { results } = run(world(), [transfers([{ id: 'POST1', type: 'post_pending', pendingId: 'PP' }])])
    const outcome = (results[0] as EventResult[])[0] as Extract<EventResult, { kind: 'create_transfer' }>
    assert.equal(outcome.transfer?.amountMinor, 60n)
    assert.equal(outcome.transfer?.debitAccountId, 'A')
    assert.equal(outcome.transfer?.createdAtMs, NOW_MS - 30_000)
  })
})

describe('linked chains', () => {
  const fund = (id: string, amountMinor: bigint, linked = false): TransferInput => posted(id, { creditAccountId: 'W', amountMinor, linked })
  const spend = (id: string, amountMinor: bigint, linked = false): TransferInput => posted(id, { debitAccountId: 'W', amountMinor, linked })

  it('commits a chain whose members all succeed, in order', () => {
    const result = run(world(), [transfers([fund('L1', 10n, true), spend('L2', 4n, true), spend('L3', 6n)])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['created', 'created', 'created'])
    assert.deepEqual(
      result.writes.transfersCreated.map((t) => t.id),
      ['L1', 'L2', 'L3'],
    )
    assert.equal(accountIn(result, 'W')?.creditsPostedMinor, 10n)
    assert.equal(accountIn(result, 'W')?.debitsPostedMinor, 10n)
  })

  it('fails the whole chain when one member fails: the others get linked_event_failed and nothing is written', () => {
    const result = run(world(), [transfers([fund('L1', 10n, true), spend('L2', 4n, true), spend('L3', 7n, true), spend('L4', 1n)])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['linked_event_failed', 'linked_event_failed', 'exceeds_credits', 'linked_event_failed'])
    assert.deepEqual(result.writes.transfersCreated, [])
    const w = accountIn(result, 'W')
    if (w !== undefined) assert.deepEqual(w, worldAccount('W'), 'the wallet is back where it was')
  })

  it('rolls back within the batch, so a later independent event sees the state before the chain', () => {
    const answered = transferStatuses([fund('L1', 10n, true), spend('L2', 11n), spend('S1', 1n)])
    assert.deepEqual(answered, ['linked_event_failed', 'exceeds_credits', 'exceeds_credits'])
  })

  it('fails later members without checking them when the first member fails', () => {
    const answered = transferStatuses([spend('L1', 1n, true), fund('L2', 10n, true), fund('L3', 10n), fund('S1', 5n)])
    assert.deepEqual(answered, ['exceeds_credits', 'linked_event_failed', 'linked_event_failed', 'created'])
  })

  it('keeps two chains of one submission independent', () => {
    const answered = transferStatuses([fund('L1', 10n, true), spend('L2', 99n), fund('M1', 3n, true), spend('M2', 3n)])
    assert.deepEqual(answered, ['linked_event_failed', 'exceeds_credits', 'created', 'created'])
  })

  it('undoes a resolution inside a failed chain: the pending transfer can still be voided after', () => {
    const result = run(world(), [
      transfers([
        { id: 'L1', type: 'post_pending', pendingId: 'P1', linked: true },
        spend('L2', 1n),
        { id: 'V1', type: 'void_pending', pendingId: 'P1' },
      ]),
    ])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['linked_event_failed', 'exceeds_credits', 'created'])
    assert.deepEqual(
      result.writes.transfersCreated.map((t) => t.id),
      ['V1'],
    )
    assert.equal(accountIn(result, 'A')?.debitsPostedMinor, worldAccount('A').debitsPostedMinor, 'the undone post moved nothing')
  })

  it('undoes a pending transfer created inside a failed chain, with its expiry', () => {
    const result = run(world(), [transfers([pending('L1', { linked: true, expiresAtMs: NOW_MS + 10 }), spend('L2', 1n)])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['linked_event_failed', 'exceeds_credits'])
    assert.deepEqual(result.writes.expiriesOpened, [])
    assert.equal(accountIn(result, 'A')?.debitsPendingMinor ?? worldAccount('A').debitsPendingMinor, worldAccount('A').debitsPendingMinor)
  })

  it('counts a replayed member (exists) as a success of its chain', () => {
    const answered = transferStatuses([posted('T1', { amountMinor: 50n, reference: 'invoice-1', linked: true }), fund('L2', 5n)])
    assert.deepEqual(answered, ['exists', 'created'])
  })

  it('answers linked_event_chain_open when the submission ends inside a chain, and writes nothing', () => {
    const result = run(world(), [transfers([fund('L1', 10n, true), spend('L2', 4n, true)])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['linked_event_failed', 'linked_event_chain_open'])
    assert.deepEqual(result.writes.transfersCreated, [])
  })

  it('answers linked_event_chain_open for a single linked transfer', () => {
    const result = run(world(), [transfers([fund('L1', 10n, true)])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['linked_event_chain_open'])
    assert.deepEqual(result.writes.transfersCreated, [])
  })

  it('answers linked_event_chain_open when the open chain ends with a replayed member, and writes nothing', () => {
    // Found by this suite: the open-chain rule only looks at a last member that was 'created', so an open
    // chain whose last member is a replay ('exists') is committed instead of refused.
    const result = run(world(), [transfers([fund('L1', 10n, true), posted('T1', { amountMinor: 50n, reference: 'invoice-1', linked: true })])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['linked_event_failed', 'linked_event_chain_open'])
    assert.deepEqual(result.writes.transfersCreated, [])
  })

  it('never lets a chain span two submissions of one batch', () => {
    const result = run(world(), [transfers([fund('L1', 10n, true)]), transfers([spend('L2', 10n)])])
    assert.deepEqual(result.results.map(statuses), [['linked_event_chain_open'], ['exceeds_credits']])
    assert.deepEqual(result.writes.transfersCreated, [])
  })
})

describe('account statuses', () => {
  function createAccounts(inputs: readonly AccountInput[], snapshot = world()) {
    const result = run(snapshot, [inputs.map((input) => ({ kind: 'create_account', input }) as LedgerEvent)])
    return { result, answered: (result.results[0] as EventResult[]).map((r) => r.status as CreateAccountStatus) }
  }
  const wallet = (id: string, overrides: Partial<AccountInput> = {}): AccountInput => ({ id, currency: 'USD', code: 'WALLET', ...overrides })

  /** CREATE_ACCOUNT_STATUSES by descending precedence: each input breaks its rule and later ones. */
  const ROWS: readonly { status: CreateAccountStatus; input: AccountInput }[] = [
    { status: 'id_invalid', input: { id: 'bad id', currency: 'ZZZ', code: 'lower', debitsLimitMinor: -1n } },
    { status: 'code_invalid', input: { id: 'A', currency: 'ZZZ', code: 'lower', debitsLimitMinor: -1n } },
    { status: 'currency_unknown', input: { id: 'A', currency: 'ZZZ', code: 'WALLET', debitsLimitMinor: -1n } },
    { status: 'limit_invalid', input: { id: 'A', currency: 'EUR', code: 'OTHER', creditsLimitMinor: -1n, debitsLimitMinor: 5 as unknown as bigint } },
    { status: 'limit_must_not_be_negative', input: { id: 'A', currency: 'EUR', code: 'OTHER', creditsLimitMinor: -1n, debitsLimitMinor: 2n ** 63n } },
    { status: 'limit_too_large', input: { id: 'A', currency: 'EUR', code: 'OTHER', debitsLimitMinor: 2n ** 63n } },
    { status: 'exists_with_different_currency', input: { id: 'A', currency: 'EUR', code: 'OTHER', debitsLimitMinor: 5n } },
    { status: 'exists_with_different_code', input: { id: 'A', currency: 'USD', code: 'OTHER', debitsLimitMinor: 5n } },
    { status: 'exists_with_different_limits', input: { id: 'A', currency: 'USD', code: 'SETTLEMENT', debitsLimitMinor: 5n } },
    { status: 'exists', input: { id: 'A', currency: 'USD', code: 'SETTLEMENT' } },
    { status: 'created', input: wallet('NEW') },
  ]

  it('has one row per status, in the documented order', () => {
    assert.deepEqual(
      ROWS.map((r) => r.status),
      [...CREATE_ACCOUNT_STATUSES],
    )
  })

  for (const row of ROWS) {
    it(`${row.status} wins over the later account rules`, () => {
      assert.deepEqual(createAccounts([row.input]).answered, [row.status])
    })
  }

  it('creates an account with zero counters, the given limits and the batch time', () => {
    const { result, answered } = createAccounts([wallet('NEW', { debitsLimitMinor: 0n, creditsLimitMinor: 7n })])
    assert.deepEqual(answered, ['created'])
    assert.deepEqual(result.writes.accountsCreated, [
      {
        id: 'NEW',
        currency: 'USD',
        code: 'WALLET',
        debitsLimitMinor: 0n,
        creditsLimitMinor: 7n,
        debitsPendingMinor: 0n,
        debitsPostedMinor: 0n,
        creditsPendingMinor: 0n,
        creditsPostedMinor: 0n,
        createdAtMs: NOW_MS,
      },
    ])
  })

  it('treats an omitted limit and an explicit null alike, and a second create in the batch as exists', () => {
    const { answered, result } = createAccounts([wallet('NEW'), wallet('NEW', { debitsLimitMinor: null, creditsLimitMinor: null }), wallet('NEW', { debitsLimitMinor: 0n })])
    assert.deepEqual(answered, ['created', 'exists', 'exists_with_different_limits'])
    assert.equal(result.writes.accountsCreated.length, 1)
  })

  it('checks code and id lengths at their bounds', () => {
    assert.deepEqual(createAccounts([wallet('K1', { code: 'C'.repeat(32) }), wallet('K2', { code: 'C'.repeat(33) }), wallet('K3', { code: '' })]).answered, [
      'created',
      'code_invalid',
      'code_invalid',
    ])
    assert.deepEqual(createAccounts([wallet('a'.repeat(64)), wallet('a'.repeat(65)), wallet('')]).answered, ['created', 'id_invalid', 'id_invalid'])
  })
})

describe('set-limits statuses', () => {
  function setLimits(input: LimitsInput, snapshot = world()) {
    const result = run(snapshot, [[{ kind: 'set_limits', input }]])
    return { result, status: (result.results[0] as EventResult[])[0]?.status as SetLimitsStatus }
  }
  // A carries 300 pending + 110 posted debits against 1,000,000 posted credits; B carries 410 credits against none.
  const ROWS: readonly { status: SetLimitsStatus; input: LimitsInput }[] = [
    { status: 'account_not_found', input: { accountId: 'nobody', debitsLimitMinor: -1n, creditsLimitMinor: -1n } },
    { status: 'limit_invalid', input: { accountId: 'B', debitsLimitMinor: -1n, creditsLimitMinor: undefined as unknown as bigint } },
    { status: 'limit_must_not_be_negative', input: { accountId: 'B', debitsLimitMinor: 2n ** 64n, creditsLimitMinor: -1n } },
    { status: 'limit_too_large', input: { accountId: 'BOTH', debitsLimitMinor: 2n ** 64n, creditsLimitMinor: 9n } },
    { status: 'exceeds_credits', input: { accountId: 'BOTH', debitsLimitMinor: 9n, creditsLimitMinor: 9n } },
    { status: 'exceeds_debits', input: { accountId: 'B', debitsLimitMinor: 0n, creditsLimitMinor: 409n } },
    { status: 'updated', input: { accountId: 'B', debitsLimitMinor: 0n, creditsLimitMinor: 410n } },
  ]

  it('has one row per status, in the documented order', () => {
    assert.deepEqual(
      ROWS.map((r) => r.status),
      [...SET_LIMITS_STATUSES],
    )
  })

  for (const row of ROWS) {
    it(`${row.status} wins over the later set-limits rules`, () => {
      assert.equal(setLimits(row.input).status, row.status)
    })
  }

  it('writes the new limits, and only on updated', () => {
    const updated = setLimits({ accountId: 'W', debitsLimitMinor: 25n, creditsLimitMinor: null })
    assert.equal(updated.status, 'updated')
    assert.deepEqual(updated.result.writes.accountsUpdated, [{ ...worldAccount('W'), debitsLimitMinor: 25n, creditsLimitMinor: null }])
    const refused = setLimits({ accountId: 'HI', debitsLimitMinor: 0n, creditsLimitMinor: null })
    assert.equal(refused.status, 'exceeds_credits')
    assert.deepEqual(refused.result.writes.accountsUpdated, [])
  })

  it('accepts a debit limit equal to what the account carries beyond its credits', () => {
    const snapshot = world({ accounts: [anAccount('F', { debitsPostedMinor: 70n, debitsPendingMinor: 30n, creditsPostedMinor: 60n })] })
    assert.equal(setLimits({ accountId: 'F', debitsLimitMinor: 40n, creditsLimitMinor: null }, snapshot).status, 'updated')
    assert.equal(setLimits({ accountId: 'F', debitsLimitMinor: 39n, creditsLimitMinor: null }, snapshot).status, 'exceeds_credits')
  })

  it('makes the new limit bind later events of the same batch', () => {
    const result = run(world(), [
      [{ kind: 'set_limits', input: { accountId: 'A', debitsLimitMinor: 0n, creditsLimitMinor: null } }],
      transfers([posted('X1', { amountMinor: 1_000_000n - 410n }), posted('X2', { amountMinor: 1n })]),
    ])
    assert.deepEqual(result.results.map(statuses), [['updated'], ['created', 'exceeds_credits']])
  })

  it('removes a limit with null', () => {
    const result = run(world(), [
      [{ kind: 'set_limits', input: { accountId: 'W', debitsLimitMinor: null, creditsLimitMinor: null } }],
      transfers([posted('X1', { debitAccountId: 'W', amountMinor: 10n })]),
    ])
    assert.deepEqual(result.results.map(statuses), [['updated'], ['created']])
  })
})

describe('a posted transfer exempt from the debits limit (settlement)', () => {
  it('may take the debit account past its limit, and the account counts the exempt debits', () => {
    const result = run(world(), [transfers([posted('S1', { debitAccountId: 'W', creditAccountId: 'B', amountMinor: 70n, exemptFromDebitsLimit: true })])])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['created'])
    assert.deepEqual(result.writes.transfersCreated[0]?.exemptFromDebitsLimit, true)
    const w = accountIn(result, 'W')
    assert.equal(w?.debitsPostedMinor, 70n)
    assert.equal(w?.debitsExemptMinor, 70n)
  })

  it('leaves the limit in force for every other transfer: the exempt debits are not room', () => {
    const result = run(world(), [
      transfers([posted('S1', { debitAccountId: 'W', creditAccountId: 'B', amountMinor: 70n, exemptFromDebitsLimit: true })]),
      transfers([posted('X1', { debitAccountId: 'W', creditAccountId: 'B', amountMinor: 1n })]),
      transfers([posted('F1', { debitAccountId: 'B', creditAccountId: 'W', amountMinor: 100n }), posted('X2', { debitAccountId: 'W', creditAccountId: 'B', amountMinor: 30n })]),
      transfers([posted('X3', { debitAccountId: 'W', creditAccountId: 'B', amountMinor: 1n })]),
    ])
    assert.deepEqual(result.results.map(statuses), [['created'], ['exceeds_credits'], ['created', 'created'], ['exceeds_credits']])
  })

  it('is undone with its linked chain', () => {
    const result = run(world(), [
      transfers([
        posted('S1', { debitAccountId: 'W', creditAccountId: 'B', amountMinor: 70n, exemptFromDebitsLimit: true, linked: true }),
        posted('S2', { debitAccountId: 'W', creditAccountId: 'C', amountMinor: 1n }),
      ]),
    ])
    assert.deepEqual(statuses(result.results[0] as EventResult[]), ['linked_event_failed', 'exceeds_credits'])
    assert.equal(accountIn(result, 'W')?.debitsExemptMinor, undefined)
    assert.deepEqual(result.writes.transfersCreated, [])
  })

  it('false is the same as absent, and a replay must say the same', () => {
    const stored = { ...posted('S1', { debitAccountId: 'W', amountMinor: 5n }), pendingId: null, expiresAtMs: null, reference: null, createdAtMs: NOW_MS, exemptFromDebitsLimit: true as const, pendingState: null }
    const snapshot = world({ transfers: [stored as StoredTransfer] })
    assert.equal(transferStatus(posted('S1', { debitAccountId: 'W', amountMinor: 5n, exemptFromDebitsLimit: true }), { snapshot }), 'exists')
    assert.equal(transferStatus(posted('S1', { debitAccountId: 'W', amountMinor: 5n }), { snapshot }), 'exists_with_different_exemption')
    assert.equal(transferStatus(posted('S1', { debitAccountId: 'W', amountMinor: 5n, exemptFromDebitsLimit: false }), { snapshot }), 'exists_with_different_exemption')
    assert.equal(transferStatus(posted('N1', { debitAccountId: 'W', amountMinor: 5n, exemptFromDebitsLimit: false })), 'exceeds_credits')
  })
})

describe('referencedIds', () => {
  it('names every account and transfer a batch must read, as given (the store skips malformed ones)', () => {
    const ids = referencedIds([
      [{ kind: 'create_account', input: { id: 'N1', currency: 'USD', code: 'WALLET' } }],
      [{ kind: 'set_limits', input: { accountId: 'N2', debitsLimitMinor: null, creditsLimitMinor: null } }],
      [{ kind: 'expire_pending', pendingId: 'P9' }],
      transfers([posted('X1', { debitAccountId: 'D', creditAccountId: 'K' }), { id: 'X2', type: 'post_pending', pendingId: 'P1' }]),
      transfers([posted('bad\u0000id', { debitAccountId: 'D\u0000', creditAccountId: '' })]),
    ])
    assert.deepEqual([...ids.accountIds].sort(), ['', 'D', 'D\u0000', 'K', 'N1', 'N2'])
    assert.deepEqual([...ids.transferIds].sort(), ['P1', 'P9', 'X1', 'X2', 'bad\u0000id'].sort())
    assert.deepEqual([...ids.actedOnIds].sort(), ['P1', 'P9'])
  })
})

describe('isJournalId', () => {
  it('takes caller ids and the expiry ids derived from them, and nothing a database could alter', () => {
    assert.equal(isJournalId('payerfsp:USD:POSITION'), true)
    assert.equal(isJournalId(expiryId('P1')), true)
    assert.equal(isJournalId('~expired'), false)
    assert.equal(isJournalId('P1~other'), false)
    assert.equal(isJournalId(`bad\u0000id${'~expired'}`), false)
    assert.equal(isJournalId(''), false)
  })
})

describe('applyBatchAdopting', () => {
  it('answers and writes exactly as applyBatch, works in the maps it is given, and leaves their objects as they were', () => {
    const submissions = [
      transfers([
        posted('AD1', { amountMinor: 7n }),
        { id: 'AD2', type: 'post_pending', pendingId: 'P1', amountMinor: 40n },
        { id: 'AD3', type: 'void_pending', pendingId: 'PEXP' },
        posted('AD4', { debitAccountId: 'W', creditAccountId: 'B', amountMinor: 1n }), // exceeds_credits
      ]),
      [{ kind: 'set_limits', input: { accountId: 'C', debitsLimitMinor: 5n, creditsLimitMinor: null } }],
    ] satisfies LedgerEvent[][]
    const expected = run(world(), submissions)
    const snapshot = world()
    const accounts = snapshot.accounts as Map<string, Account>
    const taken = snapshot.transfers as Map<string, StoredTransfer>
    const before = new Map([...accounts].map(([id, a]) => [id, { ...a }]))
    const originals = new Map(accounts)
    const pendingP1 = taken.get('P1')
    const adopted = applyBatchAdopting({ accounts, transfers: taken }, submissions, { nowMs: NOW_MS })
    assert.deepEqual(adopted.results, expected.results)
    assert.deepEqual(adopted.writes, expected.writes)
    assert.deepEqual([...adopted.transfers], [...expected.transfers])
    // The engine's copies replaced the values; the caller's objects did not move.
    for (const [id, original] of originals) assert.deepEqual({ ...original }, before.get(id), `account ${id} unchanged`)
    assert.notEqual(accounts.get('A'), originals.get('A'))
    assert.equal(pendingP1?.pendingState, 'pending')
    assert.equal(taken.get('AD1')?.type, 'posted', 'the batch’s new transfers are added to the map')
  })
})
