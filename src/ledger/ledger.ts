// SPDX-License-Identifier: Apache-2.0
/**
 * The ledger as its users see it: the switch keeps participant positions on it, each DFSP its customers'
 * accounts. store/ledger implements it with group commit; every promise resolves only once its batch is
 * durable, and every outcome is a status, never an exception.
 */
import type { CreateAccountStatus, CreateTransferStatus, ExpireStatus, SetLimitsStatus } from './statuses.ts'
import type { Account, AccountInput, LimitsInput, StoredTransfer, Transfer, TransferInput } from './types.ts'

export interface TransferOutcome {
  readonly status: CreateTransferStatus
  /** The journal row: the new one when created, the stored one when it already existed. */
  readonly transfer?: Transfer
}

export interface ExpiryOutcome {
  readonly pendingId: string
  readonly status: ExpireStatus
  readonly transfer?: Transfer
}

export interface Ledger {
  createAccounts(inputs: readonly AccountInput[]): Promise<CreateAccountStatus[]>
  /** One submission: linked transfers in it succeed or fail together; the rest are independent. */
  createTransfers(inputs: readonly TransferInput[]): Promise<TransferOutcome[]>
  createTransfer(input: TransferInput): Promise<TransferOutcome>
  setLimits(input: LimitsInput): Promise<SetLimitsStatus>
  /** Records the expiry of pending transfers that are due, at most `limit` of them. */
  expireDue(limit?: number): Promise<ExpiryOutcome[]>
  lookupAccounts(ids: readonly string[]): Promise<Account[]>
  lookupTransfers(ids: readonly string[]): Promise<StoredTransfer[]>
}

/** Available balance as a wallet shows it: posted credits less everything debited or reserved. */
export function availableMinor(account: Account): bigint {
  return account.creditsPostedMinor - account.debitsPostedMinor - account.debitsPendingMinor
}
