// SPDX-License-Identifier: Apache-2.0
/**
 * The ledger's vocabulary, after TigerBeetle: accounts with four counters, transfers that are posted at
 * once or held pending (a reservation) until they are posted, voided or expire. Amounts are bigint minor
 * units of the account's currency.
 */

/** What a caller gives to open an account. */
export interface AccountInput {
  readonly id: string
  /** ISO 4217 code; every transfer on the account is in this currency. */
  readonly currency: string
  /** The account's type in its owner's words, e.g. POSITION, SETTLEMENT, WALLET: 1–32 of A–Z, 0–9, _. */
  readonly code: string
  /**
   * The flag "debits must not exceed credits", with an allowance: debits (pending + posted) may never
   * exceed posted credits plus this limit. 0n is an overdraft-free wallet; a participant's net debit cap is
   * the limit on its position account. Null (the default) means the debit side is unlimited.
   */
  readonly debitsLimitMinor?: bigint | null
  /** The mirror flag: credits (pending + posted) may never exceed posted debits plus this limit. */
  readonly creditsLimitMinor?: bigint | null
}

export interface Account {
  readonly id: string
  readonly currency: string
  readonly code: string
  readonly debitsLimitMinor: bigint | null
  readonly creditsLimitMinor: bigint | null
  readonly debitsPendingMinor: bigint
  readonly debitsPostedMinor: bigint
  readonly creditsPendingMinor: bigint
  readonly creditsPostedMinor: bigint
  readonly createdAtMs: number
  /**
   * Posted debits made by transfers exempt from the debits limit (settlement), present only when above
   * zero: debits may pass credits + limit by at most this much.
   */
  readonly debitsExemptMinor?: bigint
}

/**
 * - posted: moves money at once;
 * - pending: reserves money (debits_pending/credits_pending) until posted, voided or expired;
 * - post_pending: posts a pending transfer, in full or in part (the rest is released);
 * - void_pending: releases a pending transfer.
 */
export type TransferType = 'posted' | 'pending' | 'post_pending' | 'void_pending'

/** A journal row's type: the four transfer types plus the expiry the ledger records itself. */
export type JournalType = TransferType | 'expire_pending'

export interface TransferInput {
  /** The idempotency key: the same id with the same content answers `exists`, never moves money twice. */
  readonly id: string
  readonly type: TransferType
  /** Required for posted and pending; for post/void optional, and if given must match the pending transfer. */
  readonly debitAccountId?: string
  readonly creditAccountId?: string
  /** Required for posted and pending; for post optional (default: the full pending amount). */
  readonly amountMinor?: bigint
  /** Required for posted and pending; for post/void optional and checked against the pending transfer. */
  readonly currency?: string
  /** The pending transfer that a post_pending or void_pending resolves. */
  readonly pendingId?: string
  /** Pending only: when the reservation expires by itself (ms since epoch). Absent: it never expires. */
  readonly expiresAtMs?: number
  /** Free text for the owner's reference, e.g. the FSPIOP transferId; at most 128 characters. */
  readonly reference?: string
  /** Links this transfer with the next one of the same submission: they succeed or fail together. */
  readonly linked?: boolean
  /**
   * Posted only: the debit account's debits limit does not apply. Settlement moves a net receiver's
   * position this way, whatever its net debit cap, as Mojaloop's settlement does; nothing else should.
   */
  readonly exemptFromDebitsLimit?: boolean
}

/** One immutable journal row. Balances are always recomputable from the journal alone. */
export interface Transfer {
  readonly id: string
  readonly type: JournalType
  readonly debitAccountId: string
  readonly creditAccountId: string
  /** For post_pending the amount posted; for void/expire the amount released (the pending amount). */
  readonly amountMinor: bigint
  readonly currency: string
  readonly pendingId: string | null
  readonly expiresAtMs: number | null
  readonly reference: string | null
  readonly createdAtMs: number
  /** Present, and true, only on a posted transfer exempt from its debit account's debits limit. */
  readonly exemptFromDebitsLimit?: true
}

/** The life of a pending transfer; see pending-state.ts for its transition table. */
export type PendingState = 'pending' | 'posted' | 'voided' | 'expired'

/** A journal row as read back, with the pending transfer's current state for type 'pending'. */
export interface StoredTransfer extends Transfer {
  readonly pendingState: PendingState | null
}

export interface LimitsInput {
  readonly accountId: string
  readonly debitsLimitMinor: bigint | null
  readonly creditsLimitMinor: bigint | null
}
