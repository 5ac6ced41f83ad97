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

/** A journal row as a statement shows it: with its position in the journal, for paging. */
export interface JournalEntry extends StoredTransfer {
  /** The row's place in the journal: larger is later. Pass the last one seen as `beforeSeq` for the next page. */
  readonly seq: bigint
}

export interface AccountTransfersQuery {
  /** Most rows returned: 1 to 1,000. */
  readonly limit: number
  /** Only rows older than this one (exclusive). */
  readonly beforeSeq?: bigint
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
  /** The journal rows that debit or credit one account, newest first: what a statement lists. */
  lookupAccountTransfers(accountId: string, query: AccountTransfersQuery): Promise<JournalEntry[]>
}

/** Available balance as a wallet shows it: posted credits less everything debited or reserved. */
export function availableMinor(account: Account): bigint {
  return account.creditsPostedMinor - account.debitsPostedMinor - account.debitsPendingMinor
}
