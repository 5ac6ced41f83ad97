// SPDX-License-Identifier: Apache-2.0
/**
 * What the DFSP needs from the outside, as ports: its tables (store/dfsp implements them on both
 * adapters), an HTTP transport to the switch (http/dfsp implements it with fetch), and a logger (pino
 * fits). Every repository method is scoped to one DFSP: several run on one store.
 */
import type { HttpMethod } from '../fspiop/index.ts'
import type { AmountType } from './quote-math.ts'
import type { AbortReason, Role, TransferState } from './transfer-state.ts'

export type PartyIdType = 'MSISDN' | 'ACCOUNT_ID'

export interface Customer {
  /** 16 hex characters, this DFSP's own id. */
  readonly customerId: string
  readonly msisdn: string | null
  readonly accountId: string | null
  /** FSPIOP PartyName: what a payer sees on a look-up. */
  readonly name: string
  readonly firstName: string | null
  readonly middleName: string | null
  readonly lastName: string | null
  readonly dateOfBirth: string | null
  readonly currency: string
  readonly walletAccountId: string
  readonly createdAtMs: number
}

export type QuoteState = 'RECEIVED' | 'ACCEPTED' | 'REJECTED'

export interface QuoteRecord {
  readonly quoteId: string
  readonly role: Role
  /** SHA-256 of the canonical JSON of the request: a resend has the same, a modified request (3106) another. */
  readonly requestHash: string
  readonly state: QuoteState
  readonly transactionId: string
  readonly customerId: string | null
  readonly amountType: AmountType
  readonly currency: string
  readonly transferAmountMinor: bigint | null
  readonly payeeReceiveAmountMinor: bigint | null
  readonly payeeFspFeeMinor: bigint | null
  readonly condition: string | null
  readonly expiresAtMs: number | null
  /** The request as JSON text: received (payee) or sent (payer). */
  readonly request: string
  /** The answer as JSON text: the callback sent (payee) or received (payer); null until there is one. */
  readonly response: string | null
  readonly responseIsError: boolean
  readonly createdAtMs: number
  readonly updatedAtMs: number
}

export interface TransferRecord {
  readonly transferId: string
  readonly role: Role
  readonly requestHash: string
  readonly state: TransferState
  readonly abortReason: AbortReason | null
  readonly quoteId: string | null
  readonly customerId: string | null
  /** The other DFSP: the payee's for a payer record, the payer's for a payee record. */
  readonly counterpartyFsp: string
  /** The other party as JSON text: {idType, idValue, name?}; null when unknown. */
  readonly counterparty: string | null
  readonly currency: string
  /** The FSPIOP transfer amount. */
  readonly amountMinor: bigint
  /** payer: the principal held (= amountMinor) · payee: what the customer is credited. */
  readonly principalMinor: bigint
  /** payer: the payer fee held · payee: the payee fee kept. */
  readonly feeMinor: bigint
  readonly note: string | null
  readonly condition: string | null
  readonly fulfilment: string | null
  readonly expiresAtMs: number
  readonly request: string
  readonly response: string | null
  readonly responseIsError: boolean
  readonly errorCode: string | null
  readonly errorDescription: string | null
  /** When the sweeper last asked the switch about this transfer. */
  readonly checkedAtMs: number | null
  readonly completedAtMs: number | null
  readonly createdAtMs: number
  readonly updatedAtMs: number
}

export type TransferChanges = Partial<
  Pick<
    TransferRecord,
    'state' | 'abortReason' | 'fulfilment' | 'response' | 'responseIsError' | 'errorCode' | 'errorDescription' | 'checkedAtMs' | 'completedAtMs'
  >
>

export type QuoteChanges = Partial<
  Pick<QuoteRecord, 'state' | 'customerId' | 'transferAmountMinor' | 'payeeReceiveAmountMinor' | 'payeeFspFeeMinor' | 'condition' | 'expiresAtMs' | 'response' | 'responseIsError'>
>

export type CustomerInsert = 'inserted' | 'msisdn_taken' | 'account_id_taken'

export interface DfspRepository {
  insertCustomer(customer: Customer): Promise<CustomerInsert>
  findCustomer(customerId: string): Promise<Customer | undefined>
  findCustomerByParty(type: PartyIdType, identifier: string): Promise<Customer | undefined>
  listCustomers(limit: number): Promise<Customer[]>

  /** Inserts the quote unless one with its id and role exists; answers the stored one in that case. */
  claimQuote(quote: QuoteRecord): Promise<{ readonly inserted: true } | { readonly inserted: false; readonly existing: QuoteRecord }>
  findQuote(quoteId: string, role: Role): Promise<QuoteRecord | undefined>
  /** Compare-and-set on state: false when the quote is not in `fromState` (another writer moved it). */
  updateQuote(quoteId: string, role: Role, fromState: QuoteState, changes: QuoteChanges & { readonly updatedAtMs: number }): Promise<boolean>

  /**
   * Inserts the transfer unless one with its id and role exists (answers the stored one then). `withQuote`
   * is inserted in the same transaction, unless it exists: a payer records its quote with the transfer.
   */
  claimTransfer(transfer: TransferRecord, withQuote?: QuoteRecord): Promise<{ readonly inserted: true } | { readonly inserted: false; readonly existing: TransferRecord }>
  findTransfer(transferId: string, role: Role): Promise<TransferRecord | undefined>
  findTransfers(transferIds: readonly string[]): Promise<TransferRecord[]>
  /** Compare-and-set: changes the transfer only while its state is one of `fromStates`. */
  updateTransfer(transferId: string, role: Role, fromStates: readonly TransferState[], changes: TransferChanges & { readonly updatedAtMs: number }): Promise<boolean>
  /** Open transfers (RECEIVED, RESERVED) whose expiration is at or before `dueAtMs`, oldest first. */
  dueTransfers(dueAtMs: number, limit: number): Promise<TransferRecord[]>
}

/** One HTTP exchange with the switch. */
export interface OutgoingRequest {
  readonly method: HttpMethod
  /** The URL path from the resource on, e.g. `/parties/MSISDN/256700000001`. */
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  /** JSON text, or undefined for GET. */
  readonly body?: string
}

export type TransportResult =
  | { readonly status: number; readonly body: unknown }
  | { readonly error: 'timeout' | 'network'; readonly detail: string }

/** Sends one request to the switch's base URL; never throws. */
export type FspiopTransport = (request: OutgoingRequest, timeoutMs: number) => Promise<TransportResult>

/** The part of pino the DFSP uses. */
export interface DfspLogger {
  debug(object: object, message: string): void
  info(object: object, message: string): void
  warn(object: object, message: string): void
  error(object: object, message: string): void
}
