// SPDX-License-Identifier: Apache-2.0
/**
 * A transfer as this DFSP keeps it, in either role, on one table (STYLE §2.5). The states are FSPIOP's;
 * why a transfer was aborted is kept apart, as `AbortReason`.
 *
 *   RECEIVED   payee: being checked, not yet answered · payer: not used any more (earlier versions: recorded,
 *              not yet sent)
 *   RESERVED   payer: recorded, funds being held or held, POST /transfers maybe sent: only the switch can tell
 *              · payee: answered RESERVED, waiting for the PATCH
 *   COMMITTED  payer: the switch committed and the hold was posted · payee: the customer was credited
 *   ABORTED    nothing moved (holds voided), or a payee credit was reversed
 */
import { ConflictError } from '../core/errors.ts'

export type TransferState = 'RECEIVED' | 'RESERVED' | 'COMMITTED' | 'ABORTED'
export type TransferEvent = 'reserve' | 'commit' | 'abort' | 'reverse'
/** REJECTED: a party said no (an error callback, or our own check) · ERROR: a failure · EXPIRED: time ran out. */
export type AbortReason = 'REJECTED' | 'ERROR' | 'EXPIRED'
export type Role = 'PAYER' | 'PAYEE'

export const TRANSFER_TRANSITIONS: { readonly [S in TransferState]: Partial<Record<TransferEvent, TransferState>> } = {
  // A payee in COMMITTED mode goes from RECEIVED straight to COMMITTED: it credits and answers at once.
  RECEIVED: { reserve: 'RESERVED', commit: 'COMMITTED', abort: 'ABORTED' },
  RESERVED: { commit: 'COMMITTED', abort: 'ABORTED' },
  // A payee that answered COMMITTED and is then told the switch aborted reverses what it credited.
  COMMITTED: { reverse: 'ABORTED' },
  ABORTED: {},
}

export function nextTransferState(from: TransferState, event: TransferEvent): TransferState {
  const to = TRANSFER_TRANSITIONS[from][event]
  if (to === undefined) throw new ConflictError(`a transfer cannot ${event} from ${from}`, { from, event })
  return to
}

/** The states an event may start from: what a compare-and-set update names. */
export function statesAllowing(event: TransferEvent): TransferState[] {
  return (Object.keys(TRANSFER_TRANSITIONS) as TransferState[]).filter((state) => TRANSFER_TRANSITIONS[state][event] !== undefined)
}

export function isFinal(state: TransferState): boolean {
  return state === 'COMMITTED' || state === 'ABORTED'
}
