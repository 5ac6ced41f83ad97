// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { feeFor, NO_FEE, type FeeRule } from './fees.ts'
import { checkQuoteResponse, payerDebit, payerQuoteAmount, quoteAsPayee } from './quote-math.ts'

/** 0.50 flat + 1 %, half-up. */
const FEE: FeeRule = { flatMinor: 50n, percentNumerator: 1n, percentDenominator: 100n, rounding: 'half-up', minMinor: 0n, maxMinor: null }
const MAX = 10n ** 15n

describe('quote as payee', () => {
  it('RECEIVE adds the fee on top: the payee receives exactly the amount', () => {
    assert.deepEqual(quoteAsPayee('RECEIVE', 10_000n, FEE, MAX), {
      ok: true,
      value: { transferAmountMinor: 10_150n, payeeReceiveAmountMinor: 10_000n, payeeFspFeeMinor: 150n },
    })
  })

  it('SEND takes the fee out: the payer transfers exactly the amount', () => {
    assert.deepEqual(quoteAsPayee('SEND', 10_000n, FEE, MAX), {
      ok: true,
      value: { transferAmountMinor: 10_000n, payeeReceiveAmountMinor: 9_850n, payeeFspFeeMinor: 150n },
    })
  })

  it('without fees both types quote the amount itself', () => {
    for (const type of ['SEND', 'RECEIVE'] as const) {
      assert.deepEqual(quoteAsPayee(type, 1n, NO_FEE, MAX), { ok: true, value: { transferAmountMinor: 1n, payeeReceiveAmountMinor: 1n, payeeFspFeeMinor: 0n } })
    }
  })

  it('rejects a zero amount, a SEND eaten by its fee, and a RECEIVE whose fee passes the scheme maximum', () => {
    assert.deepEqual(quoteAsPayee('SEND', 0n, FEE, MAX), { ok: false, status: 'amount_must_be_positive' })
    assert.deepEqual(quoteAsPayee('RECEIVE', 0n, FEE, MAX), { ok: false, status: 'amount_must_be_positive' })
    assert.deepEqual(quoteAsPayee('SEND', 50n, FEE, MAX), { ok: false, status: 'fees_exceed_amount' }) // fee 50.5 → 51 ≥ 50
    assert.deepEqual(quoteAsPayee('SEND', 52n, FEE, MAX), { ok: true, value: { transferAmountMinor: 52n, payeeReceiveAmountMinor: 1n, payeeFspFeeMinor: 51n } })
    assert.deepEqual(quoteAsPayee('RECEIVE', 10_000n, FEE, 10_100n), { ok: false, status: 'amount_exceeds_scheme_max' })
  })

  it('always satisfies payeeReceiveAmount = transferAmount − payeeFspFee, and the payer accepts it', () => {
    fc.assert(
      fc.property(fc.constantFrom('SEND', 'RECEIVE' as const), fc.bigInt({ min: 1n, max: 10n ** 12n }), (type, amount) => {
        const quoted = quoteAsPayee(type, amount, FEE, MAX)
        if (!quoted.ok) {
          assert.equal(type, 'SEND')
          return
        }
        const q = quoted.value
        assert.equal(q.payeeReceiveAmountMinor, q.transferAmountMinor - q.payeeFspFeeMinor)
        assert.ok(q.payeeReceiveAmountMinor > 0n)
        assert.equal(checkQuoteResponse(type, amount, q), 'consistent')
      }),
    )
  })
})

describe('quote as payer', () => {
  it('SEND: the payer fee comes off before quoting, and the debit is the amount asked for', () => {
    const asked = 10_000n
    const quoteAmount = payerQuoteAmount('SEND', asked, FEE)
    assert.deepEqual(quoteAmount, { ok: true, value: 9_850n })
    // A payee without fees answers transferAmount = quote amount.
    assert.deepEqual(payerDebit('SEND', asked, 9_850n, FEE), { payerFeeMinor: 150n, totalDebitMinor: 10_000n })
  })

  it('RECEIVE: the quote asks for the amount; the payer fee is on the transfer amount the payee answers', () => {
    assert.deepEqual(payerQuoteAmount('RECEIVE', 10_000n, FEE), { ok: true, value: 10_000n })
    // The payee added its own 1.50: transferAmount 101.50, payer fee 0.50 + 1.015 → 1.52 (half-up).
    assert.deepEqual(payerDebit('RECEIVE', 10_000n, 10_150n, FEE), { payerFeeMinor: 152n, totalDebitMinor: 10_302n })
  })

  it('refuses what cannot be sent', () => {
    assert.deepEqual(payerQuoteAmount('SEND', 0n, FEE), { ok: false, status: 'amount_must_be_positive' })
    assert.deepEqual(payerQuoteAmount('SEND', 50n, FEE), { ok: false, status: 'fees_exceed_amount' })
  })

  it('SEND debits exactly the amount asked whenever the payee keeps the transfer amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 100n, max: 10n ** 12n }), (asked) => {
        const quoteAmount = payerQuoteAmount('SEND', asked, FEE)
        assert.ok(quoteAmount.ok)
        assert.equal(payerDebit('SEND', asked, quoteAmount.value, FEE).totalDebitMinor, asked)
        assert.equal(asked - quoteAmount.value, feeFor(FEE, asked))
      }),
    )
  })
})

describe("the payer's check of a quote response", () => {
  it('names what is wrong', () => {
    assert.equal(checkQuoteResponse('SEND', 100n, { transferAmountMinor: 101n }), 'transfer_amount_changed')
    assert.equal(checkQuoteResponse('RECEIVE', 100n, { transferAmountMinor: 99n }), 'transfer_amount_below_amount')
    assert.equal(checkQuoteResponse('RECEIVE', 100n, { transferAmountMinor: 110n, payeeReceiveAmountMinor: 99n }), 'receive_amount_changed')
    assert.equal(checkQuoteResponse('RECEIVE', 100n, { transferAmountMinor: 110n, payeeReceiveAmountMinor: 100n, payeeFspFeeMinor: 9n }), 'fees_inconsistent')
    assert.equal(checkQuoteResponse('RECEIVE', 100n, { transferAmountMinor: 110n, payeeReceiveAmountMinor: 100n, payeeFspFeeMinor: 12n, payeeFspCommissionMinor: 2n }), 'consistent')
    assert.equal(checkQuoteResponse('SEND', 100n, { transferAmountMinor: 100n }), 'consistent')
  })
})
