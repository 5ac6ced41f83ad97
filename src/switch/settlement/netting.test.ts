// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AssertionFailed } from '../../core/assert.ts'
import { isLedgerId } from '../../core/ids.ts'
import { assertNetsBalance, combineNets, settlementLedgerTransfer, settlementTransferId } from './netting.ts'

describe('combineNets', () => {
  it('nets received − sent per participant and currency, ordered by participant then currency', () => {
    const nets = combineNets(
      [
        { fsp: 'payer', currency: 'USD', totalMinor: 1_000n },
        { fsp: 'payee', currency: 'USD', totalMinor: 250n },
        { fsp: 'payer', currency: 'KES', totalMinor: 7n },
      ],
      [
        { fsp: 'payee', currency: 'USD', totalMinor: 1_000n },
        { fsp: 'payer', currency: 'USD', totalMinor: 250n },
        { fsp: 'third', currency: 'KES', totalMinor: 7n },
      ],
    )
    assert.deepEqual(nets, [
      { fsp: 'payee', currency: 'USD', sentMinor: 250n, receivedMinor: 1_000n, netMinor: 750n },
      { fsp: 'payer', currency: 'KES', sentMinor: 7n, receivedMinor: 0n, netMinor: -7n },
      { fsp: 'payer', currency: 'USD', sentMinor: 1_000n, receivedMinor: 250n, netMinor: -750n },
      { fsp: 'third', currency: 'KES', sentMinor: 0n, receivedMinor: 7n, netMinor: 7n },
    ])
  })

  it('is empty for no transfers', () => {
    assert.deepEqual(combineNets([], []), [])
  })

  it('refuses flows that do not balance: the hub never creates or absorbs money', () => {
    assert.throws(() => combineNets([{ fsp: 'a', currency: 'USD', totalMinor: 10n }], [{ fsp: 'b', currency: 'USD', totalMinor: 9n }]), AssertionFailed)
  })

  it('refuses a participant and currency listed twice on one side', () => {
    const twice = [
      { fsp: 'a', currency: 'USD', totalMinor: 1n },
      { fsp: 'a', currency: 'USD', totalMinor: 1n },
    ]
    assert.throws(() => combineNets(twice, [{ fsp: 'b', currency: 'USD', totalMinor: 2n }]), AssertionFailed)
  })

  it('sums to zero per currency for any set of transfers', () => {
    const transfer = fc.record({
      payer: fc.constantFrom('a', 'b', 'c', 'd'),
      payee: fc.constantFrom('a', 'b', 'c', 'd'),
      currency: fc.constantFrom('USD', 'KES', 'XOF'),
      amountMinor: fc.bigInt({ min: 1n, max: 10n ** 15n }),
    })
    fc.assert(
      fc.property(fc.array(transfer, { maxLength: 80 }), (transfers) => {
        const sum = (side: 'payer' | 'payee') => {
          const totals = new Map<string, { fsp: string; currency: string; totalMinor: bigint }>()
          for (const t of transfers) {
            const key = `${t[side]}:${t.currency}`
            const before = totals.get(key)?.totalMinor ?? 0n
            totals.set(key, { fsp: t[side], currency: t.currency, totalMinor: before + t.amountMinor })
          }
          return [...totals.values()]
        }
        const nets = combineNets(sum('payer'), sum('payee'))
        for (const currency of ['USD', 'KES', 'XOF']) {
          assert.equal(
            nets.filter((n) => n.currency === currency).reduce((s, n) => s + n.netMinor, 0n),
            0n,
          )
        }
        // Each participant's net is what it received less what it sent, transfer by transfer.
        for (const n of nets) {
          const expected = transfers
            .filter((t) => t.currency === n.currency)
            .reduce((s, t) => s + (t.payee === n.fsp ? t.amountMinor : 0n) - (t.payer === n.fsp ? t.amountMinor : 0n), 0n)
          assert.equal(n.netMinor, expected)
        }
      }),
    )
  })
})

describe('assertNetsBalance', () => {
  it('refuses a net that is not received − sent', () => {
    assert.throws(() => assertNetsBalance([{ fsp: 'a', currency: 'USD', sentMinor: 1n, receivedMinor: 0n, netMinor: 1n }]), AssertionFailed)
  })
})

describe('settlement ledger transfers', () => {
  it('derive their ids from the settlement, participant and currency only', () => {
    assert.equal(settlementTransferId(12, 'payerfsp', 'USD'), 'stl:12:payerfsp:USD')
    assert.equal(settlementTransferId(12, 'payerfsp', 'USD'), settlementTransferId(12, 'payerfsp', 'USD'))
    assert.notEqual(settlementTransferId(12, 'payerfsp', 'USD'), settlementTransferId(13, 'payerfsp', 'USD'))
  })

  it('use a digest when the readable id would break the ledger id rules, still one per triple', () => {
    const long = 'a-participant-with-a-very-long-name-x'
    const a = settlementTransferId(9_007_199_254_740_991, long, 'USD')
    const b = settlementTransferId(9_007_199_254_740_991, long, 'KES')
    const c = settlementTransferId(1, 'fsp with spaces', 'USD')
    for (const id of [a, b, c]) assert.ok(isLedgerId(id), id)
    assert.notEqual(a, b)
    assert.equal(a, settlementTransferId(9_007_199_254_740_991, long, 'USD'))
  })

  it('credit a net sender’s POSITION from the hub settlement account', () => {
    assert.deepEqual(settlementLedgerTransfer(3, { fsp: 'payer', currency: 'USD', sentMinor: 500n, receivedMinor: 100n, netMinor: -400n }), {
      id: 'stl:3:payer:USD',
      type: 'posted',
      debitAccountId: 'hub:USD:HUB_MULTILATERAL_SETTLEMENT',
      creditAccountId: 'payer:USD:POSITION',
      amountMinor: 400n,
      currency: 'USD',
      reference: 'settlement 3 SETTLEMENT_NET_SENDER',
    })
  })

  it('debit a net receiver’s POSITION to the hub settlement account, exempt from its net debit cap', () => {
    assert.deepEqual(settlementLedgerTransfer(3, { fsp: 'payee', currency: 'USD', sentMinor: 100n, receivedMinor: 500n, netMinor: 400n }), {
      id: 'stl:3:payee:USD',
      type: 'posted',
      debitAccountId: 'payee:USD:POSITION',
      creditAccountId: 'hub:USD:HUB_MULTILATERAL_SETTLEMENT',
      amountMinor: 400n,
      currency: 'USD',
      reference: 'settlement 3 SETTLEMENT_NET_RECIPIENT',
      exemptFromDebitsLimit: true,
    })
  })

  it('move nothing for a net of zero', () => {
    assert.equal(settlementLedgerTransfer(3, { fsp: 'even', currency: 'USD', sentMinor: 100n, receivedMinor: 100n, netMinor: 0n }), null)
  })
})
