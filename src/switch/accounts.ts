// SPDX-License-Identifier: Apache-2.0
/**
 * The switch's ledger accounts per participant and currency, and why there are two.
 *
 * Mojaloop checks a prepare twice (reference §4.3): liquidity cover (4001: position + reserved + amount must
 * not pass the liquidity deposited) and the net debit cap (4200: position + reserved + amount must not pass
 * the NDC). Each is one ledger account with the flag "debits must not exceed credits (+ limit)":
 * - POSITION: debited by what the participant sends, credited by what it receives; its debits limit is the
 *   NDC, so debits (sent + reserved) ≤ received + NDC, i.e. position + reserved ≤ NDC.
 * - LIQUIDITY: credited by funds in, debited by funds out, and moved by every transfer exactly like
 *   POSITION; its debits limit is 0, so position + reserved ≤ funds deposited.
 * A prepare reserves on both with two linked pending transfers (LIQUIDITY first, so 4001 wins over 4200);
 * a commit posts both, an abort or expiry voids both.
 * The hub's RECONCILIATION account is the other side of funds in and out; SETTLEMENT the other side of
 * settlement transfers.
 */
export type ParticipantAccountType = 'POSITION' | 'LIQUIDITY'
export type HubAccountType = 'HUB_RECONCILIATION' | 'HUB_MULTILATERAL_SETTLEMENT'

export function participantAccountId(fsp: string, currency: string, type: ParticipantAccountType): string {
  return `${fsp}:${currency}:${type}`
}

export function hubAccountId(currency: string, type: HubAccountType): string {
  return `hub:${currency}:${type}`
}
