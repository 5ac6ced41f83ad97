// SPDX-License-Identifier: Apache-2.0
/**
 * The amounts of a quote, on both sides, pure (FSPIOP API Definition §5.1, reference §2.4):
 *
 *   payeeReceiveAmount = transferAmount − payeeFspFee + payeeFspCommission
 *
 * As payee (answering POST /quotes; this DFSP pays no commission):
 * - RECEIVE: `amount` is what the payee must receive. The fee is computed on it and added:
 *   transferAmount = amount + fee, payeeReceiveAmount = amount.
 * - SEND: `amount` is what the payer FSP transfers. The fee is computed on it and taken from it:
 *   transferAmount = amount, payeeReceiveAmount = amount − fee, which must stay positive.
 *
 * As payer (the outbound API), fees are not disclosed to the scheme, as Mojaloop's SDK does by default:
 * - SEND: the customer names the total to be debited. The payer fee is computed on that total and taken
 *   off before quoting: quote amount = total − payer fee; debit = transferAmount + payer fee = total.
 * - RECEIVE: the customer names what the payee must receive; that is the quote amount. The payer fee is
 *   computed on the transferAmount the payee answers with: debit = transferAmount + payer fee.
 */
import { fail, ok, type Result } from '../core/result.ts'
import { feeFor, type FeeRule } from './fees.ts'

export type AmountType = 'SEND' | 'RECEIVE'

export interface PayeeQuoteAmounts {
  readonly transferAmountMinor: bigint
  readonly payeeReceiveAmountMinor: bigint
  readonly payeeFspFeeMinor: bigint
}

export type QuoteAmountStatus =
  | 'amount_must_be_positive' // a zero amount moves nothing and cannot be booked
  | 'fees_exceed_amount' // SEND: the fee would leave the payee nothing
  | 'amount_exceeds_scheme_max' // the transfer amount with fees passes the scheme maximum

export function quoteAsPayee(amountType: AmountType, amountMinor: bigint, rule: FeeRule, schemeMaxMinor: bigint): Result<PayeeQuoteAmounts, QuoteAmountStatus> {
  if (amountMinor <= 0n) return fail('amount_must_be_positive')
  const feeMinor = feeFor(rule, amountMinor)
  if (amountType === 'RECEIVE') {
    const transferAmountMinor = amountMinor + feeMinor
    if (transferAmountMinor > schemeMaxMinor) return fail('amount_exceeds_scheme_max')
    return ok({ transferAmountMinor, payeeReceiveAmountMinor: amountMinor, payeeFspFeeMinor: feeMinor })
  }
  if (feeMinor >= amountMinor) return fail('fees_exceed_amount')
  if (amountMinor > schemeMaxMinor) return fail('amount_exceeds_scheme_max')
  return ok({ transferAmountMinor: amountMinor, payeeReceiveAmountMinor: amountMinor - feeMinor, payeeFspFeeMinor: feeMinor })
}

/** What the payer DFSP asks a quote for, from what its customer asked. */
export function payerQuoteAmount(amountType: AmountType, requestedMinor: bigint, rule: FeeRule): Result<bigint, QuoteAmountStatus> {
  if (requestedMinor <= 0n) return fail('amount_must_be_positive')
  if (amountType === 'RECEIVE') return ok(requestedMinor)
  const feeMinor = feeFor(rule, requestedMinor)
  if (feeMinor >= requestedMinor) return fail('fees_exceed_amount')
  return ok(requestedMinor - feeMinor)
}

export interface PayerDebit {
  readonly payerFeeMinor: bigint
  /** What is held, then debited, from the customer's wallet: transfer amount + payer fee. */
  readonly totalDebitMinor: bigint
}

/** The payer's fee and total debit once the payee has answered the quote. */
export function payerDebit(amountType: AmountType, requestedMinor: bigint, transferAmountMinor: bigint, rule: FeeRule): PayerDebit {
  const payerFeeMinor = feeFor(rule, amountType === 'SEND' ? requestedMinor : transferAmountMinor)
  return { payerFeeMinor, totalDebitMinor: transferAmountMinor + payerFeeMinor }
}

export type QuoteResponseStatus =
  | 'transfer_amount_changed' // SEND: the payee may not change what the payer transfers
  | 'transfer_amount_below_amount' // RECEIVE: the payer transfers at least what the payee receives
  | 'receive_amount_changed' // RECEIVE: payeeReceiveAmount differs from what was asked
  | 'fees_inconsistent' // payeeReceiveAmount ≠ transferAmount − payeeFspFee + payeeFspCommission
  | 'consistent'

/** The payer's check of a payee's quote: the amounts agree with what was asked and with each other. */
export function checkQuoteResponse(
  amountType: AmountType,
  quoteAmountMinor: bigint,
  response: {
    readonly transferAmountMinor: bigint
    readonly payeeReceiveAmountMinor?: bigint
    readonly payeeFspFeeMinor?: bigint
    readonly payeeFspCommissionMinor?: bigint
  },
): QuoteResponseStatus {
  if (amountType === 'SEND' && response.transferAmountMinor !== quoteAmountMinor) return 'transfer_amount_changed'
  if (amountType === 'RECEIVE') {
    if (response.transferAmountMinor < quoteAmountMinor) return 'transfer_amount_below_amount'
    if (response.payeeReceiveAmountMinor !== undefined && response.payeeReceiveAmountMinor !== quoteAmountMinor) return 'receive_amount_changed'
  }
  if (response.payeeReceiveAmountMinor !== undefined && response.payeeFspFeeMinor !== undefined) {
    const expected = response.transferAmountMinor - response.payeeFspFeeMinor + (response.payeeFspCommissionMinor ?? 0n)
    if (expected !== response.payeeReceiveAmountMinor) return 'fees_inconsistent'
  }
  return 'consistent'
}
