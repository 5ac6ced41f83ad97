// SPDX-License-Identifier: Apache-2.0
/**
 * The two life cycles of deferred net settlement, each on one screen (reference §4.7).
 *
 * A settlement window is OPEN while committed transfers land in it (exactly one is OPEN at any time),
 * CLOSED once an operator closes it (the next one opens in the same transaction), PENDING_SETTLEMENT while
 * a settlement covers it, and SETTLED when that settlement is settled. A settlement that is aborted
 * releases its windows back to CLOSED, so a later settlement can take them.
 *
 * A settlement is PENDING_SETTLEMENT from creation (its nets are fixed then), SETTLING from the moment the
 * ledger may start moving positions (it can no longer be aborted, and a retried settle resumes there), and
 * SETTLED once every position transfer is posted; or ABORTED before it started settling.
 *
 * The repository builds its compare-and-set statements from these tables, so the database cannot be moved
 * along an edge they do not have.
 */
import { ConflictError } from '../../core/errors.ts'

export const WINDOW_STATES = ['OPEN', 'CLOSED', 'PENDING_SETTLEMENT', 'SETTLED'] as const
export type WindowState = (typeof WINDOW_STATES)[number]

/**
 * - close: an operator closes the OPEN window (and the next one opens);
 * - include: a new settlement takes the CLOSED window;
 * - settle: the settlement covering the window is settled;
 * - release: the settlement covering the window is aborted, so the window may be settled later.
 */
export const WINDOW_EVENTS = ['close', 'include', 'settle', 'release'] as const
export type WindowEvent = (typeof WINDOW_EVENTS)[number]

/** The whole window life cycle. A missing cell is an illegal move. */
export const WINDOW_TRANSITIONS: { readonly [S in WindowState]: Partial<Record<WindowEvent, WindowState>> } = {
  OPEN: { close: 'CLOSED' },
  CLOSED: { include: 'PENDING_SETTLEMENT' },
  PENDING_SETTLEMENT: { settle: 'SETTLED', release: 'CLOSED' },
  SETTLED: {},
}

export const SETTLEMENT_STATES = ['PENDING_SETTLEMENT', 'SETTLING', 'SETTLED', 'ABORTED'] as const
export type SettlementState = (typeof SETTLEMENT_STATES)[number]

/**
 * - start: settling begins; from here on ledger transfers may exist, so the settlement can only go forward;
 * - complete: every position transfer is posted;
 * - abort: the settlement is given up before settling began, and its windows are released.
 */
export const SETTLEMENT_EVENTS = ['start', 'complete', 'abort'] as const
export type SettlementEvent = (typeof SETTLEMENT_EVENTS)[number]

/** The whole settlement life cycle. A missing cell is an illegal move. */
export const SETTLEMENT_TRANSITIONS: { readonly [S in SettlementState]: Partial<Record<SettlementEvent, SettlementState>> } = {
  PENDING_SETTLEMENT: { start: 'SETTLING', abort: 'ABORTED' },
  SETTLING: { complete: 'SETTLED' },
  SETTLED: {},
  ABORTED: {},
}

/** The next window state; an illegal move is a ConflictError. */
export function nextWindowState(from: WindowState, event: WindowEvent): WindowState {
  const to = WINDOW_TRANSITIONS[from][event]
  if (to === undefined) throw new ConflictError(`a settlement window cannot ${event} from ${from}`, { from, event })
  return to
}

/** The next settlement state; an illegal move is a ConflictError. */
export function nextSettlementState(from: SettlementState, event: SettlementEvent): SettlementState {
  const to = SETTLEMENT_TRANSITIONS[from][event]
  if (to === undefined) throw new ConflictError(`a settlement cannot ${event} from ${from}`, { from, event })
  return to
}

/** Every window state the event may leave from: what a compare-and-set for that event must find in the row. */
export function windowStatesAllowing(event: WindowEvent): WindowState[] {
  return WINDOW_STATES.filter((state) => WINDOW_TRANSITIONS[state][event] !== undefined)
}

export function settlementStatesAllowing(event: SettlementEvent): SettlementState[] {
  return SETTLEMENT_STATES.filter((state) => SETTLEMENT_TRANSITIONS[state][event] !== undefined)
}

export function isWindowState(value: string): value is WindowState {
  return (WINDOW_STATES as readonly string[]).includes(value)
}

export function isSettlementState(value: string): value is SettlementState {
  return (SETTLEMENT_STATES as readonly string[]).includes(value)
}
