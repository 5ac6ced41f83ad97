// SPDX-License-Identifier: Apache-2.0
/**
 * The terminal gateway's PayeeDfsp port, served in process by the DFSP that owns the terminals: its
 * requestToPay flow (reference §7) in the gateway's words. Decimal strings from the DFSP's view become
 * bigint minor units here; a DFSP error becomes a REJECTED outcome with its FSPIOP code, never a throw.
 */
import type { PayeeDfsp, RequestOutcome, RequestToPay } from '../../channels/terminal/index.ts'
import { HubError } from '../../core/errors.ts'
import { formatAmount, parseAmount } from '../../core/money.ts'
import type { Dfsp } from '../../dfsp/index.ts'

type View = Awaited<ReturnType<Dfsp['requestToPay']>>

function minor(text: string | undefined, currency: string): bigint {
  if (text === undefined) return 0n
  const parsed = parseAmount(text, currency, { grammar: 'decimal' })
  return parsed.ok ? parsed.value : 0n
}

function toOutcome(view: View, currency: string): RequestOutcome {
  const id = view.transactionRequestId
  switch (view.state) {
    case 'AWAITING_AUTHORIZATION': {
      const amountMinor = minor(view.quote?.amount, currency)
      const totalDebitMinor = minor(view.quote?.totalDebit ?? view.quote?.amount, currency)
      return { state: 'AWAITING_AUTHORIZATION', transactionRequestId: id, amountMinor, feeMinor: totalDebitMinor - amountMinor, totalDebitMinor, retriesLeft: view.retriesLeft ?? 1 }
    }
    case 'COMMITTED':
      return { state: 'COMMITTED', transactionRequestId: id, transferId: view.transferId ?? '', completedAtMs: view.completedTimestamp === undefined ? Date.now() : Date.parse(view.completedTimestamp) }
    case 'RETRY':
      return { state: 'RETRY', transactionRequestId: id, retriesLeft: view.retriesLeft ?? 0 }
    default:
      // REJECTED, FAILED, or still in flight when the DFSP stopped waiting: the terminal must not dispense.
      return {
        state: 'REJECTED',
        transactionRequestId: id,
        fspiopCode: view.error?.errorCode ?? '2004',
        reason: view.error?.errorDescription ?? `transaction request is ${view.state}`,
      }
  }
}

async function guarded(id: string, work: () => Promise<RequestOutcome>): Promise<RequestOutcome> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof HubError) return { state: 'REJECTED', transactionRequestId: id, fspiopCode: error.spec.fspiop, reason: error.message }
    throw error
  }
}

export function dfspPayee(dfsp: Dfsp, currency: string): PayeeDfsp {
  return {
    requestToPay: (r: RequestToPay) =>
      guarded(r.transactionRequestId, async () =>
        toOutcome(
          await dfsp.requestToPay({
            transactionRequestId: r.transactionRequestId,
            payer: r.payer,
            payee: { idType: r.payee.idType, idValue: r.payee.idValue, ...(r.payee.name === undefined ? {} : { name: r.payee.name }) },
            amount: formatAmount(r.amountMinor, r.currency),
            currency: r.currency,
            scenario: r.scenario,
            initiatorType: r.initiatorType,
            authenticationType: r.authenticationType,
          }),
          r.currency,
        ),
      ),
    // The OTP typed or the QR code scanned: the request's own authenticationType says which it is.
    authorize: (id, code) => guarded(id, async () => toOutcome(await dfsp.authorizeRequest(id, code), currency)),
    resend: (id) => guarded(id, async () => toOutcome(await dfsp.resendRequestOtp(id), currency)),
    reject: (id) => guarded(id, async () => toOutcome(await dfsp.rejectRequest(id), currency)),
    async refund(id, reason) {
      try {
        const view = await dfsp.refundRequest(id, reason)
        return view.state === 'REFUNDED' ? { state: 'REFUNDED' } : { state: 'FAILED', fspiopCode: view.error?.errorCode ?? '2001' }
      } catch (error) {
        return { state: 'FAILED', fspiopCode: error instanceof HubError ? error.spec.fspiop : '2001' }
      }
    },
  }
}
