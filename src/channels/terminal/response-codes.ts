// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP outcomes → ISO 8583 response codes (field 39), the gateway's one mapper (STYLE §2.3),
 * following reference §8.5.
 *
 * - 14 unknown customer: the payer party or id was not found (3200, 3204).
 * - 15 no such issuer: no DFSP serves the customer (3201, 3202).
 * - 51 insufficient funds: 4001, or a generic payer error/rejection (4000, 4100) whose reason names funds
 *   or balance, which is how a payer DFSP reports a balance decline.
 * - 61 over the payer's limit (4200), 57 not permitted to the customer (4300, 4400).
 * - 68 the transaction request, quote or transfer expired (3300–3303).
 * - 75 OTP tries exhausted: a rejection of an OTP entry that was the customer's last try.
 * - 91 the switch or a DFSP did not answer in time or could not be reached (1000, 1001, 2003, 2004, 2005).
 * - 05 do not honour: every other rejection.
 */
import { RESPONSE_CODES, type ResponseCode } from './iso8583/index.ts'

const BY_FSPIOP_CODE: Readonly<Record<string, ResponseCode>> = {
  '1000': RESPONSE_CODES.issuerOrSwitchInoperative.code,
  '1001': RESPONSE_CODES.issuerOrSwitchInoperative.code,
  '2003': RESPONSE_CODES.issuerOrSwitchInoperative.code,
  '2004': RESPONSE_CODES.issuerOrSwitchInoperative.code,
  '2005': RESPONSE_CODES.issuerOrSwitchInoperative.code,
  '3200': RESPONSE_CODES.invalidCardNumber.code,
  '3204': RESPONSE_CODES.invalidCardNumber.code,
  '3201': RESPONSE_CODES.noSuchIssuer.code,
  '3202': RESPONSE_CODES.noSuchIssuer.code,
  '3300': RESPONSE_CODES.responseReceivedTooLate.code,
  '3301': RESPONSE_CODES.responseReceivedTooLate.code,
  '3302': RESPONSE_CODES.responseReceivedTooLate.code,
  '3303': RESPONSE_CODES.responseReceivedTooLate.code,
  '4001': RESPONSE_CODES.insufficientFunds.code,
  '4200': RESPONSE_CODES.exceedsWithdrawalAmountLimit.code,
  '4300': RESPONSE_CODES.notPermittedToCardholder.code,
  '4400': RESPONSE_CODES.notPermittedToCardholder.code,
}

const FUNDS_REASON = /insufficient|funds|balance/i

export interface RejectionContext {
  /** True when the rejection answers an OTP entry that was the customer's last allowed try. */
  readonly lastOtpTry: boolean
}

/** The response code for a REJECTED outcome. */
export function responseCodeForRejection(fspiopCode: string, reason: string, context: RejectionContext): ResponseCode {
  const direct = BY_FSPIOP_CODE[fspiopCode]
  if (direct !== undefined) return direct
  if ((fspiopCode === '4000' || fspiopCode === '4100') && FUNDS_REASON.test(reason)) return RESPONSE_CODES.insufficientFunds.code
  if (context.lastOtpTry) return RESPONSE_CODES.pinTriesExceeded.code
  return RESPONSE_CODES.doNotHonour.code
}
