// SPDX-License-Identifier: Apache-2.0
/**
 * Every outcome of a ledger operation is one of these statuses, never an exception. The lists are in
 * descending precedence: when several rules fail, the first one listed is answered (TigerBeetle's model),
 * and apply.test.ts checks the order row by row.
 */
import type { ErrorCode } from '../core/error-catalog.ts'

export const CREATE_TRANSFER_STATUSES = [
  'linked_event_failed', // another transfer of the same linked chain failed
  'linked_event_chain_open', // the submission ended with a transfer still marked linked
  'id_invalid', // empty, longer than 64, or characters other than A–Z a–z 0–9 . _ : -
  'reference_invalid', // more than 128 characters, or text a database would alter (NUL, lone surrogates)
  'pending_id_must_be_empty', // posted and pending transfers do not reference another transfer
  'pending_id_must_not_be_empty', // post_pending and void_pending name the pending transfer
  'pending_id_must_be_different', // a transfer cannot resolve itself
  'expiry_reserved_for_pending_transfer', // only pending transfers expire
  'expiry_invalid', // not a positive whole number of milliseconds
  'exemption_reserved_for_posted_transfer', // only a posted transfer may be exempt from the debits limit
  'debit_account_id_must_not_be_empty',
  'credit_account_id_must_not_be_empty',
  'accounts_must_be_different',
  'amount_must_be_positive', // zero or negative (a post may omit the amount to post it in full)
  'currency_unknown', // not an ISO 4217 code
  'amount_exceeds_scheme_max', // above the scheme maximum for the currency
  'debit_account_not_found',
  'credit_account_not_found',
  'currency_must_match_accounts', // the transfer's currency differs from its accounts'
  'exists_with_different_type',
  'exists_with_different_debit_account_id',
  'exists_with_different_credit_account_id',
  'exists_with_different_amount',
  'exists_with_different_currency',
  'exists_with_different_pending_id',
  'exists_with_different_expiry',
  'exists_with_different_reference',
  'exists_with_different_exemption',
  'exists', // the same transfer was already created: nothing changes
  'pending_transfer_not_found',
  'pending_transfer_not_pending', // the referenced transfer is not a pending one
  'pending_transfer_has_different_debit_account_id',
  'pending_transfer_has_different_credit_account_id',
  'pending_transfer_has_different_currency',
  'exceeds_pending_transfer_amount', // a post cannot post more than was reserved
  'pending_transfer_has_different_amount', // a void names the whole amount or none
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'expiry_must_be_in_future',
  'overflows_debits', // a counter would pass the signed 64-bit maximum
  'overflows_credits',
  'exceeds_credits', // the debit account's "debits must not exceed credits (+ limit)" flag
  'exceeds_debits', // the credit account's "credits must not exceed debits (+ limit)" flag
  'created',
] as const
export type CreateTransferStatus = (typeof CREATE_TRANSFER_STATUSES)[number]

export const CREATE_ACCOUNT_STATUSES = [
  'id_invalid',
  'code_invalid', // 1–32 of A–Z, 0–9, _
  'currency_unknown',
  'limit_invalid', // neither an amount in minor units (a bigint) nor null; omitted means null
  'limit_must_not_be_negative',
  'limit_too_large', // above the signed 64-bit maximum the counters are stored in
  'exists_with_different_currency',
  'exists_with_different_code',
  'exists_with_different_limits',
  'exists',
  'created',
] as const
export type CreateAccountStatus = (typeof CREATE_ACCOUNT_STATUSES)[number]

export const SET_LIMITS_STATUSES = [
  'account_not_found',
  'limit_invalid', // neither a bigint nor null: both limits are given, null for none
  'limit_must_not_be_negative',
  'limit_too_large',
  'exceeds_credits', // the account's debits already pass the new limit
  'exceeds_debits',
  'updated',
] as const
export type SetLimitsStatus = (typeof SET_LIMITS_STATUSES)[number]

export const EXPIRE_STATUSES = ['pending_transfer_not_found', 'pending_transfer_not_pending', 'already_resolved', 'not_due', 'expired'] as const
export type ExpireStatus = (typeof EXPIRE_STATUSES)[number]

/** How each transfer status reads as an API error; null where the operation succeeded. */
export const TRANSFER_STATUS_ERRORS: { readonly [S in CreateTransferStatus]: ErrorCode | null } = {
  linked_event_failed: 'VALIDATION',
  linked_event_chain_open: 'VALIDATION',
  id_invalid: 'MALFORMED_SYNTAX',
  reference_invalid: 'MALFORMED_SYNTAX',
  pending_id_must_be_empty: 'VALIDATION',
  pending_id_must_not_be_empty: 'MISSING_ELEMENT',
  pending_id_must_be_different: 'VALIDATION',
  expiry_reserved_for_pending_transfer: 'VALIDATION',
  expiry_invalid: 'MALFORMED_SYNTAX',
  exemption_reserved_for_posted_transfer: 'VALIDATION',
  debit_account_id_must_not_be_empty: 'MISSING_ELEMENT',
  credit_account_id_must_not_be_empty: 'MISSING_ELEMENT',
  accounts_must_be_different: 'VALIDATION',
  amount_must_be_positive: 'VALIDATION',
  amount_exceeds_scheme_max: 'VALIDATION',
  currency_unknown: 'VALIDATION',
  debit_account_not_found: 'ACCOUNT_NOT_FOUND',
  credit_account_not_found: 'ACCOUNT_NOT_FOUND',
  currency_must_match_accounts: 'VALIDATION',
  exists_with_different_type: 'MODIFIED_REQUEST',
  exists_with_different_debit_account_id: 'MODIFIED_REQUEST',
  exists_with_different_credit_account_id: 'MODIFIED_REQUEST',
  exists_with_different_amount: 'MODIFIED_REQUEST',
  exists_with_different_currency: 'MODIFIED_REQUEST',
  exists_with_different_pending_id: 'MODIFIED_REQUEST',
  exists_with_different_expiry: 'MODIFIED_REQUEST',
  exists_with_different_reference: 'MODIFIED_REQUEST',
  exists_with_different_exemption: 'MODIFIED_REQUEST',
  exists: null,
  pending_transfer_not_found: 'TRANSFER_NOT_FOUND',
  pending_transfer_not_pending: 'INVALID_STATE',
  pending_transfer_has_different_debit_account_id: 'VALIDATION',
  pending_transfer_has_different_credit_account_id: 'VALIDATION',
  pending_transfer_has_different_currency: 'VALIDATION',
  exceeds_pending_transfer_amount: 'VALIDATION',
  pending_transfer_has_different_amount: 'VALIDATION',
  pending_transfer_already_posted: 'INVALID_STATE',
  pending_transfer_already_voided: 'INVALID_STATE',
  pending_transfer_expired: 'TRANSFER_EXPIRED',
  expiry_must_be_in_future: 'VALIDATION',
  overflows_debits: 'VALIDATION',
  overflows_credits: 'VALIDATION',
  exceeds_credits: 'PAYER_LIMIT_ERROR',
  exceeds_debits: 'PAYEE_LIMIT_ERROR',
  created: null,
}
