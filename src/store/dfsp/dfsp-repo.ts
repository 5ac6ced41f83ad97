// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP's tables (migration 004) in the portable SQL subset, one repository per DFSP: every statement is
 * scoped by dfsp_id, since several DFSPs (and the switch) may share one store. Claims are
 * `INSERT … ON CONFLICT DO NOTHING`, so two copies of one request racing each other make exactly one row;
 * state changes are compare-and-set on the state column.
 *
 * Customers found or inserted are kept in memory: a look-up, a quote and a transfer each read the payee
 * (and /send the payer), ~2 SELECTs per transfer on each DFSP under bench:e2e. That is exact because a
 * customer row is never updated or deleted (nothing in Kivuko does either; a change that starts to must
 * invalidate here). Only rows that exist are kept, never an absence, so a customer another process of the
 * same DFSP inserts into a shared PostgreSQL schema is found at the next look-up, as before.
 */
import type { Customer, CustomerInsert, DfspRepository, PartyIdType, QuoteChanges, QuoteRecord, QuoteState, TransferChanges, TransferRecord } from '../../dfsp/ports.ts'
import type { AmountType } from '../../dfsp/quote-math.ts'
import type { AbortReason, Role, TransferState } from '../../dfsp/transfer-state.ts'
import type { Row, SqlClient, SqlExecutor, SqlValue } from '../ports.ts'

const CUSTOMER_COLUMNS = 'customer_id, msisdn, account_id, name, first_name, middle_name, last_name, date_of_birth, currency, wallet_account_id, created_at_ms'

/** Most customers kept in memory; past it the longest kept is dropped (and read again when needed). */
export const CUSTOMER_CACHE_MAX = 10_000

const QUOTE_COLUMNS = `quote_id, role, request_hash, state, transaction_id, customer_id, amount_type, currency, transfer_amount_minor,
  payee_receive_amount_minor, payee_fsp_fee_minor, condition, expires_at_ms, request, response, response_is_error, created_at_ms, updated_at_ms`

const TRANSFER_COLUMNS = `transfer_id, role, request_hash, state, abort_reason, quote_id, customer_id, counterparty_fsp, counterparty, currency,
  amount_minor, principal_minor, fee_minor, note, condition, fulfilment, expires_at_ms, request, response, response_is_error, error_code,
  error_description, checked_at_ms, completed_at_ms, created_at_ms, updated_at_ms`

interface CustomerRow extends Row {
  customer_id: string
  msisdn: string | null
  account_id: string | null
  name: string
  first_name: string | null
  middle_name: string | null
  last_name: string | null
  date_of_birth: string | null
  currency: string
  wallet_account_id: string
  created_at_ms: bigint
}

interface QuoteRow extends Row {
  quote_id: string
  role: string
  request_hash: string
  state: string
  transaction_id: string
  customer_id: string | null
  amount_type: string
  currency: string
  transfer_amount_minor: bigint | null
  payee_receive_amount_minor: bigint | null
  payee_fsp_fee_minor: bigint | null
  condition: string | null
  expires_at_ms: bigint | null
  request: string
  response: string | null
  response_is_error: bigint
  created_at_ms: bigint
  updated_at_ms: bigint
}

interface TransferRow extends Row {
  transfer_id: string
  role: string
  request_hash: string
  state: string
  abort_reason: string | null
  quote_id: string | null
  customer_id: string | null
  counterparty_fsp: string
  counterparty: string | null
  currency: string
  amount_minor: bigint
  principal_minor: bigint
  fee_minor: bigint
  note: string | null
  condition: string | null
  fulfilment: string | null
  expires_at_ms: bigint
  request: string
  response: string | null
  response_is_error: bigint
  error_code: string | null
  error_description: string | null
  checked_at_ms: bigint | null
  completed_at_ms: bigint | null
  created_at_ms: bigint
  updated_at_ms: bigint
}

const msOrNull = (value: bigint | null): number | null => (value === null ? null : Number(value))
const bigOrNull = (value: number | null): bigint | null => (value === null ? null : BigInt(value))

function toCustomer(row: CustomerRow): Customer {
  return {
    customerId: row.customer_id,
    msisdn: row.msisdn,
    accountId: row.account_id,
    name: row.name,
    firstName: row.first_name,
    middleName: row.middle_name,
    lastName: row.last_name,
    dateOfBirth: row.date_of_birth,
    currency: row.currency,
    walletAccountId: row.wallet_account_id,
    createdAtMs: Number(row.created_at_ms),
  }
}

function toQuote(row: QuoteRow): QuoteRecord {
  return {
    quoteId: row.quote_id,
    role: row.role as Role,
    requestHash: row.request_hash,
    state: row.state as QuoteState,
    transactionId: row.transaction_id,
    customerId: row.customer_id,
    amountType: row.amount_type as AmountType,
    currency: row.currency,
    transferAmountMinor: row.transfer_amount_minor,
    payeeReceiveAmountMinor: row.payee_receive_amount_minor,
    payeeFspFeeMinor: row.payee_fsp_fee_minor,
    condition: row.condition,
    expiresAtMs: msOrNull(row.expires_at_ms),
    request: row.request,
    response: row.response,
    responseIsError: row.response_is_error === 1n,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  }
}

function toTransfer(row: TransferRow): TransferRecord {
  return {
    transferId: row.transfer_id,
    role: row.role as Role,
    requestHash: row.request_hash,
    state: row.state as TransferState,
    abortReason: row.abort_reason as AbortReason | null,
    quoteId: row.quote_id,
    customerId: row.customer_id,
    counterpartyFsp: row.counterparty_fsp,
    counterparty: row.counterparty,
    currency: row.currency,
    amountMinor: row.amount_minor,
    principalMinor: row.principal_minor,
    feeMinor: row.fee_minor,
    note: row.note,
    condition: row.condition,
    fulfilment: row.fulfilment,
    expiresAtMs: Number(row.expires_at_ms),
    request: row.request,
    response: row.response,
    responseIsError: row.response_is_error === 1n,
    errorCode: row.error_code,
    errorDescription: row.error_description,
    checkedAtMs: msOrNull(row.checked_at_ms),
    completedAtMs: msOrNull(row.completed_at_ms),
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  }
}

/** Column name and value for each field a caller may change; undefined fields are left as they are. */
const QUOTE_CHANGE_COLUMNS: { readonly [K in keyof Required<QuoteChanges>]: readonly [string, (value: NonNullable<QuoteChanges[K]> | null) => SqlValue] } = {
  state: ['state', (v) => v],
  customerId: ['customer_id', (v) => v],
  transferAmountMinor: ['transfer_amount_minor', (v) => v],
  payeeReceiveAmountMinor: ['payee_receive_amount_minor', (v) => v],
  payeeFspFeeMinor: ['payee_fsp_fee_minor', (v) => v],
  condition: ['condition', (v) => v],
  expiresAtMs: ['expires_at_ms', (v) => bigOrNull(v)],
  response: ['response', (v) => v],
  responseIsError: ['response_is_error', (v) => (v === true ? 1n : 0n)],
}

const TRANSFER_CHANGE_COLUMNS: { readonly [K in keyof Required<TransferChanges>]: readonly [string, (value: NonNullable<TransferChanges[K]> | null) => SqlValue] } = {
  state: ['state', (v) => v],
  abortReason: ['abort_reason', (v) => v],
  fulfilment: ['fulfilment', (v) => v],
  response: ['response', (v) => v],
  responseIsError: ['response_is_error', (v) => (v === true ? 1n : 0n)],
  errorCode: ['error_code', (v) => v],
  errorDescription: ['error_description', (v) => v],
  checkedAtMs: ['checked_at_ms', (v) => bigOrNull(v)],
  completedAtMs: ['completed_at_ms', (v) => bigOrNull(v)],
}

function setClause(changes: object, columns: Readonly<Record<string, readonly [string, (value: never) => SqlValue]>>): { sql: string; params: SqlValue[] } {
  const parts: string[] = []
  const params: SqlValue[] = []
  for (const [key, value] of Object.entries(changes)) {
    if (key === 'updatedAtMs' || value === undefined) continue
    const entry = columns[key]
    if (entry === undefined) throw new Error(`no column for ${key}`)
    const [column, encode] = entry
    parts.push(`${column} = ?`)
    params.push((encode as (v: unknown) => SqlValue)(value))
  }
  return { sql: parts.join(', '), params }
}

export class SqlDfspRepository implements DfspRepository {
  readonly #db: SqlClient
  readonly #dfspId: string
  /** Customers by id, in the order they were kept (the oldest is dropped first). */
  readonly #customers = new Map<string, Customer>()
  /** The same customers by `MSISDN:<msisdn>` and `ACCOUNT_ID:<account id>`. */
  readonly #customersByParty = new Map<string, Customer>()
  readonly #customerCacheMax: number

  constructor(db: SqlClient, dfspId: string, options: { readonly customerCacheMax?: number } = {}) {
    this.#db = db
    this.#dfspId = dfspId
    this.#customerCacheMax = options.customerCacheMax ?? CUSTOMER_CACHE_MAX
  }

  #keep(customer: Customer): Customer {
    if (this.#customers.has(customer.customerId)) return customer
    if (this.#customers.size >= this.#customerCacheMax) {
      const [oldest] = this.#customers.values()
      if (oldest !== undefined) this.#forget(oldest)
    }
    this.#customers.set(customer.customerId, customer)
    if (customer.msisdn !== null) this.#customersByParty.set(`MSISDN:${customer.msisdn}`, customer)
    if (customer.accountId !== null) this.#customersByParty.set(`ACCOUNT_ID:${customer.accountId}`, customer)
    return customer
  }

  #forget(customer: Customer): void {
    this.#customers.delete(customer.customerId)
    if (customer.msisdn !== null) this.#customersByParty.delete(`MSISDN:${customer.msisdn}`)
    if (customer.accountId !== null) this.#customersByParty.delete(`ACCOUNT_ID:${customer.accountId}`)
  }

  async insertCustomer(customer: Customer): Promise<CustomerInsert> {
    // Checked first, then inserted: the unique indexes still decide a race, and a lost race reads as taken.
    if (customer.msisdn !== null && (await this.findCustomerByParty('MSISDN', customer.msisdn)) !== undefined) return 'msisdn_taken'
    if (customer.accountId !== null && (await this.findCustomerByParty('ACCOUNT_ID', customer.accountId)) !== undefined) return 'account_id_taken'
    const changed = await this.#db.run(
      `INSERT INTO dfsp_customer (dfsp_id, ${CUSTOMER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [
        this.#dfspId,
        customer.customerId,
        customer.msisdn,
        customer.accountId,
        customer.name,
        customer.firstName,
        customer.middleName,
        customer.lastName,
        customer.dateOfBirth,
        customer.currency,
        customer.walletAccountId,
        BigInt(customer.createdAtMs),
      ],
    )
    if (changed === 1) {
      this.#keep(customer)
      return 'inserted'
    }
    return customer.msisdn !== null && (await this.findCustomerByParty('MSISDN', customer.msisdn)) !== undefined ? 'msisdn_taken' : 'account_id_taken'
  }

  async findCustomer(customerId: string): Promise<Customer | undefined> {
    const kept = this.#customers.get(customerId)
    if (kept !== undefined) return kept
    const [row] = await this.#db.query<CustomerRow>(`SELECT ${CUSTOMER_COLUMNS} FROM dfsp_customer WHERE dfsp_id = ? AND customer_id = ?`, [this.#dfspId, customerId])
    return row === undefined ? undefined : this.#keep(toCustomer(row))
  }

  async findCustomerByParty(type: PartyIdType, identifier: string): Promise<Customer | undefined> {
    const kept = this.#customersByParty.get(`${type}:${identifier}`)
    if (kept !== undefined) return kept
    const column = type === 'MSISDN' ? 'msisdn' : 'account_id'
    const [row] = await this.#db.query<CustomerRow>(`SELECT ${CUSTOMER_COLUMNS} FROM dfsp_customer WHERE dfsp_id = ? AND ${column} = ?`, [this.#dfspId, identifier])
    return row === undefined ? undefined : this.#keep(toCustomer(row))
  }

  async listCustomers(limit: number): Promise<Customer[]> {
    const rows = await this.#db.query<CustomerRow>(`SELECT ${CUSTOMER_COLUMNS} FROM dfsp_customer WHERE dfsp_id = ? ORDER BY created_at_ms, customer_id LIMIT ?`, [
      this.#dfspId,
      limit,
    ])
    return rows.map(toCustomer)
  }

  async claimQuote(quote: QuoteRecord): Promise<{ readonly inserted: true } | { readonly inserted: false; readonly existing: QuoteRecord }> {
    const changed = await this.#insertQuote(this.#db, quote)
    if (changed === 1) return { inserted: true }
    const existing = await this.findQuote(quote.quoteId, quote.role)
    if (existing === undefined) throw new Error(`quote ${quote.quoteId} was neither inserted nor found`)
    return { inserted: false, existing }
  }

  #insertQuote(db: SqlExecutor, quote: QuoteRecord): Promise<number> {
    return db.run(
      `INSERT INTO dfsp_quote (dfsp_id, ${QUOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [
        this.#dfspId,
        quote.quoteId,
        quote.role,
        quote.requestHash,
        quote.state,
        quote.transactionId,
        quote.customerId,
        quote.amountType,
        quote.currency,
        quote.transferAmountMinor,
        quote.payeeReceiveAmountMinor,
        quote.payeeFspFeeMinor,
        quote.condition,
        bigOrNull(quote.expiresAtMs),
        quote.request,
        quote.response,
        quote.responseIsError ? 1n : 0n,
        BigInt(quote.createdAtMs),
        BigInt(quote.updatedAtMs),
      ],
    )
  }

  async findQuote(quoteId: string, role: Role): Promise<QuoteRecord | undefined> {
    const [row] = await this.#db.query<QuoteRow>(`SELECT ${QUOTE_COLUMNS} FROM dfsp_quote WHERE dfsp_id = ? AND quote_id = ? AND role = ?`, [this.#dfspId, quoteId, role])
    return row === undefined ? undefined : toQuote(row)
  }

  async updateQuote(quoteId: string, role: Role, fromState: QuoteState, changes: QuoteChanges & { readonly updatedAtMs: number }): Promise<boolean> {
    const set = setClause(changes, QUOTE_CHANGE_COLUMNS)
    const changed = await this.#db.run(
      `UPDATE dfsp_quote SET ${set.sql === '' ? '' : `${set.sql}, `}updated_at_ms = ? WHERE dfsp_id = ? AND quote_id = ? AND role = ? AND state = ?`,
      [...set.params, BigInt(changes.updatedAtMs), this.#dfspId, quoteId, role, fromState],
    )
    return changed === 1
  }

  async claimTransfer(transfer: TransferRecord, withQuote?: QuoteRecord): Promise<{ readonly inserted: true } | { readonly inserted: false; readonly existing: TransferRecord }> {
    const changed =
      withQuote === undefined
        ? await this.#insertTransfer(this.#db, transfer)
        : await this.#db.transaction(async (tx) => {
            await this.#insertQuote(tx, withQuote)
            return this.#insertTransfer(tx, transfer)
          })
    if (changed === 1) return { inserted: true }
    const existing = await this.findTransfer(transfer.transferId, transfer.role)
    if (existing === undefined) throw new Error(`transfer ${transfer.transferId} was neither inserted nor found`)
    return { inserted: false, existing }
  }

  #insertTransfer(db: SqlExecutor, transfer: TransferRecord): Promise<number> {
    return db.run(
      `INSERT INTO dfsp_transfer (dfsp_id, ${TRANSFER_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [
        this.#dfspId,
        transfer.transferId,
        transfer.role,
        transfer.requestHash,
        transfer.state,
        transfer.abortReason,
        transfer.quoteId,
        transfer.customerId,
        transfer.counterpartyFsp,
        transfer.counterparty,
        transfer.currency,
        transfer.amountMinor,
        transfer.principalMinor,
        transfer.feeMinor,
        transfer.note,
        transfer.condition,
        transfer.fulfilment,
        BigInt(transfer.expiresAtMs),
        transfer.request,
        transfer.response,
        transfer.responseIsError ? 1n : 0n,
        transfer.errorCode,
        transfer.errorDescription,
        bigOrNull(transfer.checkedAtMs),
        bigOrNull(transfer.completedAtMs),
        BigInt(transfer.createdAtMs),
        BigInt(transfer.updatedAtMs),
      ],
    )
  }

  async findTransfer(transferId: string, role: Role): Promise<TransferRecord | undefined> {
    const [row] = await this.#db.query<TransferRow>(`SELECT ${TRANSFER_COLUMNS} FROM dfsp_transfer WHERE dfsp_id = ? AND transfer_id = ? AND role = ?`, [
      this.#dfspId,
      transferId,
      role,
    ])
    return row === undefined ? undefined : toTransfer(row)
  }

  async findTransfers(transferIds: readonly string[]): Promise<TransferRecord[]> {
    if (transferIds.length === 0) return []
    const found: TransferRecord[] = []
    for (let start = 0; start < transferIds.length; start += 500) {
      const part = transferIds.slice(start, start + 500)
      const rows = await this.#db.query<TransferRow>(
        `SELECT ${TRANSFER_COLUMNS} FROM dfsp_transfer WHERE dfsp_id = ? AND transfer_id IN (${part.map(() => '?').join(', ')}) ORDER BY created_at_ms, role`,
        [this.#dfspId, ...part],
      )
      found.push(...rows.map(toTransfer))
    }
    return found
  }

  async updateTransfer(transferId: string, role: Role, fromStates: readonly TransferState[], changes: TransferChanges & { readonly updatedAtMs: number }): Promise<boolean> {
    if (fromStates.length === 0) return false
    const set = setClause(changes, TRANSFER_CHANGE_COLUMNS)
    const changed = await this.#db.run(
      `UPDATE dfsp_transfer SET ${set.sql === '' ? '' : `${set.sql}, `}updated_at_ms = ?
        WHERE dfsp_id = ? AND transfer_id = ? AND role = ? AND state IN (${fromStates.map(() => '?').join(', ')})`,
      [...set.params, BigInt(changes.updatedAtMs), this.#dfspId, transferId, role, ...fromStates],
    )
    return changed === 1
  }

  async dueTransfers(dueAtMs: number, limit: number): Promise<TransferRecord[]> {
    // Least recently asked about first, so transfers the switch stays silent on cannot crowd out new ones.
    const rows = await this.#db.query<TransferRow>(
      `SELECT ${TRANSFER_COLUMNS} FROM dfsp_transfer
        WHERE dfsp_id = ? AND state IN ('RECEIVED', 'RESERVED') AND expires_at_ms <= ? AND (checked_at_ms IS NULL OR checked_at_ms <= ?)
        ORDER BY COALESCE(checked_at_ms, 0), expires_at_ms LIMIT ?`,
      [this.#dfspId, BigInt(dueAtMs), BigInt(dueAtMs), limit],
    )
    return rows.map(toTransfer)
  }
}
