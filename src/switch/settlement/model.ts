// SPDX-License-Identifier: Apache-2.0
/**
 * Settlement's records as the service hands them out. Amounts are bigint minor units of their currency;
 * times are milliseconds since the epoch. Window and settlement ids are the database's integers, as in
 * Mojaloop's central-settlement API.
 */
import type { SettlementState, WindowState } from './settlement-state.ts'

/** What the switch reports when a transfer commits. */
export interface CommittedTransfer {
  readonly transferId: string
  readonly payerFsp: string
  readonly payeeFsp: string
  readonly currency: string
  readonly amountMinor: bigint
  readonly committedAtMs: number
}

export interface RecordOutcome {
  /** The window the transfer belongs to: the OPEN one when it was recorded first. */
  readonly windowId: number
  /** 'exists' when the same transfer id had been recorded before (nothing changed). */
  readonly status: 'recorded' | 'exists'
}

/** One currency of a window's content: how many committed transfers it holds and their total. */
export interface WindowContent {
  readonly currency: string
  readonly transferCount: number
  readonly amountMinor: bigint
}

export interface SettlementWindow {
  readonly id: number
  readonly state: WindowState
  readonly reason: string | null
  readonly createdAtMs: number
  readonly changedAtMs: number
  /** The settlement that covers the window now (PENDING_SETTLEMENT or SETTLED), or null. */
  readonly settlementId: number | null
  /** Per currency, in currency order. */
  readonly content: readonly WindowContent[]
}

export interface WindowFilter {
  readonly state?: WindowState
  /** Windows holding at least one transfer this participant sent or received. */
  readonly participantId?: string
  /** Windows created at or after this time. */
  readonly fromMs?: number
  /** Windows created at or before this time. */
  readonly toMs?: number
}

/** One participant's position in one currency over a set of transfers. */
export interface ParticipantNet {
  readonly fsp: string
  readonly currency: string
  readonly sentMinor: bigint
  readonly receivedMinor: bigint
  /** received − sent: positive for a net receiver, negative for a net sender. */
  readonly netMinor: bigint
}

export interface SettlementParticipant extends ParticipantNet {
  /** The ledger transfer that settles this net; null when the net is zero and nothing moves. */
  readonly ledgerTransferId: string | null
}

export interface Settlement {
  readonly id: number
  /** The settlement model named on creation; Kivuko settles every one as deferred multilateral net. */
  readonly model: string
  readonly state: SettlementState
  /** The reason given with the latest state change. */
  readonly reason: string
  readonly createdAtMs: number
  readonly changedAtMs: number
  readonly windows: readonly SettlementWindow[]
  /** Ordered by participant, then currency. */
  readonly participants: readonly SettlementParticipant[]
}

export interface CreateSettlementInput {
  readonly windowIds: readonly number[]
  readonly reason: string
  /** Defaults to DEFERREDNET. */
  readonly model?: string
}

/** Sent, received and net per participant and currency, for one window or one settlement. */
export interface SettlementReport {
  readonly scope: 'window' | 'settlement'
  readonly id: number
  readonly state: WindowState | SettlementState
  /** For a settlement, the windows it covers; for a window, the window itself. */
  readonly windowIds: readonly number[]
  readonly rows: readonly ParticipantNet[]
}
