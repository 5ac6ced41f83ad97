// SPDX-License-Identifier: Apache-2.0
/**
 * The transfer life cycle (reference §4.1), as FSPIOP shows it, with the abort reason kept apart instead of
 * central-ledger's fifteen internal states.
 */
import { ConflictError } from '../../core/errors.ts'

export type TransferState = 'RECEIVED' | 'RESERVED' | 'COMMITTED' | 'ABORTED'
export type TransferEvent = 'reserve' | 'reject' | 'commit' | 'fail' | 'expire'
/** INVALID: failed prepare validation; REJECTED: liquidity or limit; ERROR: the payee said no or fulfilled wrongly; EXPIRED. */
export type AbortReason = 'INVALID' | 'REJECTED' | 'ERROR' | 'EXPIRED'

/** The whole life cycle on one screen. A missing cell is an illegal move. */
export const TRANSFER_TRANSITIONS: { readonly [S in TransferState]: Partial<Record<TransferEvent, TransferState>> } = {
  RECEIVED: { reserve: 'RESERVED', reject: 'ABORTED', fail: 'ABORTED', expire: 'ABORTED' },
  RESERVED: { commit: 'COMMITTED', fail: 'ABORTED', expire: 'ABORTED' },
  COMMITTED: {},
  ABORTED: {},
}

export function nextTransferState(from: TransferState, event: TransferEvent): TransferState {
  const to = TRANSFER_TRANSITIONS[from][event]
  if (to === undefined) throw new ConflictError(`transfer cannot ${event} from ${from}`, { from, event })
  return to
}
