// SPDX-License-Identifier: Apache-2.0
/** The packed form of a batch's rows (what crosses to the writer thread): every value comes back as it went. */
import assert from 'node:assert/strict'
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { BatchWrites } from '../../ledger/apply.ts'
import type { Account, Transfer } from '../../ledger/types.ts'
import type { SqlValue } from '../ports.ts'
import { packSqliteWrites, transferables, unpackSqliteWrites, type PackedWrites, type SqliteWrites } from './packed-writes.ts'

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constant(''))
const ms = fc.integer({ min: 0, max: 2 ** 52 })

const account: fc.Arbitrary<Account> = fc.record(
  {
    id: text,
    currency: text,
    code: text,
    debitsLimitMinor: fc.option(int64),
    creditsLimitMinor: fc.option(int64),
    debitsPendingMinor: int64,
    debitsPostedMinor: int64,
    creditsPendingMinor: int64,
    creditsPostedMinor: int64,
    createdAtMs: ms,
    debitsExemptMinor: int64,
  },
  { requiredKeys: ['id', 'currency', 'code', 'debitsLimitMinor', 'creditsLimitMinor', 'debitsPendingMinor', 'debitsPostedMinor', 'creditsPendingMinor', 'creditsPostedMinor', 'createdAtMs'] },
)

const transfer: fc.Arbitrary<Transfer> = fc.record(
  {
    id: text,
    type: fc.constantFrom('posted', 'pending', 'post_pending', 'void_pending', 'expire_pending'),
    debitAccountId: text,
    creditAccountId: text,
    amountMinor: int64,
    currency: text,
    pendingId: fc.option(text),
    expiresAtMs: fc.option(ms),
    reference: fc.option(text),
    createdAtMs: ms,
    exemptFromDebitsLimit: fc.constant(true as const),
  },
  { requiredKeys: ['id', 'type', 'debitAccountId', 'creditAccountId', 'amountMinor', 'currency', 'pendingId', 'expiresAtMs', 'reference', 'createdAtMs'] },
) as fc.Arbitrary<Transfer>

const expiry = fc.record({ id: text, expiresAtMs: ms })

const batchWrites: fc.Arbitrary<BatchWrites> = fc.record({
  accountsCreated: fc.array(account, { maxLength: 5 }),
  accountsUpdated: fc.array(account, { maxLength: 8 }),
  transfersCreated: fc.array(transfer, { maxLength: 8 }),
  expiriesOpened: fc.array(expiry, { maxLength: 4 }),
  expiriesClosed: fc.array(expiry, { maxLength: 4 }),
})

/** The rows spelled out in the SQLite statements' column order: the layout the writer thread binds. */
function expectedRows(w: BatchWrites): SqliteWrites {
  const update = (a: Account): SqlValue[] => [
    a.debitsLimitMinor,
    a.creditsLimitMinor,
    a.debitsPendingMinor,
    a.debitsPostedMinor,
    a.creditsPendingMinor,
    a.creditsPostedMinor,
    ...(a.debitsExemptMinor === undefined ? [] : [a.debitsExemptMinor]),
    a.id,
  ]
  const journal = (t: Transfer): SqlValue[] => [t.id, t.type, t.debitAccountId, t.creditAccountId, t.amountMinor, t.currency, t.pendingId, t.expiresAtMs, t.reference, t.createdAtMs]
  const closedIds = new Set(w.expiriesClosed.map((e) => e.id))
  const cancelled = new Set(w.expiriesOpened.filter((e) => closedIds.has(e.id)).map((e) => e.id))
  return {
    accountsCreated: w.accountsCreated.flatMap((a) => [a.id, a.currency, a.code, a.debitsLimitMinor, a.creditsLimitMinor, a.debitsPendingMinor, a.debitsPostedMinor, a.creditsPendingMinor, a.creditsPostedMinor, a.createdAtMs]),
    accountsUpdated: w.accountsUpdated.filter((a) => a.debitsExemptMinor === undefined).flatMap(update),
    accountsUpdatedExempt: w.accountsUpdated.filter((a) => a.debitsExemptMinor !== undefined).flatMap(update),
    transfers: w.transfersCreated.filter((t) => t.exemptFromDebitsLimit !== true).flatMap(journal),
    exemptTransfers: w.transfersCreated.filter((t) => t.exemptFromDebitsLimit === true).flatMap(journal),
    expiriesOpened: w.expiriesOpened.filter((e) => !cancelled.has(e.id)).flatMap((e) => [e.expiresAtMs, e.id]),
    expiriesClosed: w.expiriesClosed.filter((e) => !cancelled.has(e.id)).flatMap((e) => [e.expiresAtMs, e.id]),
  }
}

/** Through a real MessagePort, buffers handed over as the writer does. */
function posted(packed: PackedWrites): PackedWrites {
  const { port1, port2 } = new MessageChannel()
  port1.postMessage(packed, transferables(packed))
  const received = receiveMessageOnPort(port2)
  port1.close()
  assert(received !== undefined)
  return received.message as PackedWrites
}

describe('packed writes', () => {
  it('unpack(pack(rows)) gives every value back, in column order, with its type, also after postMessage', () => {
    fc.assert(
      fc.property(batchWrites, (w) => {
        const expected = expectedRows(w)
        assert.deepEqual(unpackSqliteWrites(packSqliteWrites(w)), expected)
        assert.deepEqual(unpackSqliteWrites(posted(packSqliteWrites(w))), expected)
      }),
      { numRuns: 300 },
    )
  })

  it('hands its buffers over: after sending, the sender has nothing left to copy', () => {
    const packed = packSqliteWrites({ accountsCreated: [], accountsUpdated: [], transfersCreated: [], expiriesOpened: [{ id: 'T1', expiresAtMs: 5 }], expiriesClosed: [] })
    const received = posted(packed)
    assert.equal(packed.numbers.length, 0, 'the sender’s view is detached')
    assert.deepEqual(unpackSqliteWrites(received).expiriesOpened, [5, 'T1'])
  })

  it('refuses a bigint outside 64 bits instead of storing it modulo 2^64', () => {
    const over = { id: 'T', type: 'posted', debitAccountId: 'A', creditAccountId: 'B', amountMinor: 2n ** 63n, currency: 'USD', pendingId: null, expiresAtMs: null, reference: null, createdAtMs: 1 } as const
    assert.throws(() => packSqliteWrites({ accountsCreated: [], accountsUpdated: [], transfersCreated: [over], expiriesOpened: [], expiriesClosed: [] }), RangeError)
    const under = { ...over, amountMinor: -(2n ** 63n) - 1n }
    assert.throws(() => packSqliteWrites({ accountsCreated: [], accountsUpdated: [], transfersCreated: [under], expiriesOpened: [], expiriesClosed: [] }), RangeError)
  })
})
