// SPDX-License-Identifier: Apache-2.0
import type { PendingState } from './types.ts'

export type PendingEvent = 'post' | 'void' | 'expire'

/** The whole life of a pending transfer on one screen. A missing cell is an illegal move. */
export const PENDING_TRANSITIONS: { readonly [S in PendingState]: Partial<Record<PendingEvent, PendingState>> } = {
  pending: { post: 'posted', void: 'voided', expire: 'expired' },
  posted: {},
  voided: {},
  expired: {},
}

/** The next state, or undefined when the event is not allowed from `from`. */
export function nextPendingState(from: PendingState, event: PendingEvent): PendingState | undefined {
  return PENDING_TRANSITIONS[from][event]
}
