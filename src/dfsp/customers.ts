// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP's customers and their wallets. A customer has a name, an MSISDN and/or an account id (the two
 * party id types this DFSP answers look-ups for) and one wallet in the DFSP's currency, which never goes
 * negative (debits limit 0). Balances and statements are read from the ledger, the source of truth.
 */
import { randomBytes } from 'node:crypto'
import { ConflictError, HubError, NotFoundError, ValidationError } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import { formatFixed, parseAmount } from '../core/money.ts'
import { validateFspiopSchema, type Party } from '../fspiop/index.ts'
import type { Ledger, StoredTransfer } from '../ledger/index.ts'
import type { CustomerSeed, DfspConfig } from './config.ts'
import { dfspAccountId, ledgerTransferId, parseLedgerTransferId, walletAccountId, type EntryKind } from './ledger-ids.ts'
import type { Customer, DfspRepository, PartyIdType, TransferRecord } from './ports.ts'

export interface NewCustomer {
  readonly name: string
  readonly firstName?: string
  readonly middleName?: string
  readonly lastName?: string
  readonly dateOfBirth?: string
  readonly msisdn?: string
  readonly accountId?: string
}

export interface Balance {
  readonly currency: string
  /** What the customer can spend: posted credits less posted debits and holds. */
  readonly availableMinor: bigint
  /** Held for payments in flight. */
  readonly reservedMinor: bigint
  /** Posted credits less posted debits. */
  readonly postedMinor: bigint
  /** Incoming payments this DFSP answered RESERVED for, waiting for the switch's commit. */
  readonly incomingMinor: bigint
}

export type StatementKind =
  | 'DEPOSIT'
  | 'PAYMENT_HOLD' // funds held for an outgoing payment
  | 'FEE_HOLD'
  | 'PAYMENT_SENT' // the hold posted: the payment left
  | 'FEE_CHARGED'
  | 'PAYMENT_RELEASED' // the hold voided: the payment did not happen
  | 'FEE_RELEASED'
  | 'PAYMENT_RECEIVED'
  | 'PAYMENT_INCOMING' // credited pending, waiting for the switch's commit
  | 'PAYMENT_CANCELLED' // a pending incoming payment voided
  | 'PAYMENT_REVERSED' // a credited payment the switch then aborted, taken back
  | 'OTHER'

export interface StatementEntry {
  readonly seq: bigint
  readonly ledgerTransferId: string
  readonly kind: StatementKind
  readonly direction: 'DEBIT' | 'CREDIT'
  readonly amountMinor: bigint
  readonly currency: string
  /** For pending rows: pending, posted, voided or expired. */
  readonly pendingState: StoredTransfer['pendingState']
  /** The FSPIOP transfer it belongs to, when it belongs to one. */
  readonly transferId: string | null
  readonly transfer: TransferRecord | undefined
  readonly createdAtMs: number
}

const MSISDN = /^[0-9]{3,15}$/
const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,64}$/

export class CustomerBook {
  readonly #config: DfspConfig
  readonly #repo: DfspRepository
  readonly #ledger: Ledger
  readonly #clock: Clock

  constructor(config: DfspConfig, repo: DfspRepository, ledger: Ledger, clock: Clock) {
    this.#config = config
    this.#repo = repo
    this.#ledger = ledger
    this.#clock = clock
  }

  /** Opens the DFSP's own accounts; safe to run on every start. */
  async openAccounts(): Promise<void> {
    const { dfspId, currency } = this.#config
    const statuses = await this.#ledger.createAccounts(
      (['SCHEME', 'FEES', 'FUNDING'] as const).map((kind) => ({ id: dfspAccountId(dfspId, currency, kind), currency, code: kind })),
    )
    for (const status of statuses) {
      if (status !== 'created' && status !== 'exists') throw new HubError('INTERNAL', `the DFSP's ledger accounts could not be opened: ${status}`)
    }
  }

  async create(input: NewCustomer): Promise<Customer> {
    const checked = checkNewCustomer(input)
    const customerId = randomBytes(8).toString('hex')
    const customer: Customer = {
      customerId,
      msisdn: checked.msisdn ?? null,
      accountId: checked.accountId ?? null,
      name: checked.name,
      firstName: checked.firstName ?? null,
      middleName: checked.middleName ?? null,
      lastName: checked.lastName ?? null,
      dateOfBirth: checked.dateOfBirth ?? null,
      currency: this.#config.currency,
      walletAccountId: walletAccountId(this.#config.dfspId, customerId),
      createdAtMs: this.#clock.nowMs(),
    }
    // The wallet first: a customer row always has its wallet. A wallet whose row then loses a race for the
    // MSISDN stays empty and unreferenced, which costs nothing.
    const [status] = await this.#ledger.createAccounts([{ id: customer.walletAccountId, currency: customer.currency, code: 'WALLET', debitsLimitMinor: 0n }])
    if (status !== 'created') throw new HubError('INTERNAL', `the wallet could not be opened: ${String(status)}`)
    const inserted = await this.#repo.insertCustomer(customer)
    if (inserted === 'msisdn_taken') throw new ConflictError(`MSISDN ${customer.msisdn} already belongs to a customer`, { msisdn: customer.msisdn })
    if (inserted === 'account_id_taken') throw new ConflictError(`account id ${customer.accountId} already belongs to a customer`, { accountId: customer.accountId })
    return customer
  }

  /** Creates the configured customers that do not exist yet and makes their opening deposits; returns all of them. */
  async seed(seeds: readonly CustomerSeed[]): Promise<Customer[]> {
    const customers: Customer[] = []
    for (const seed of seeds) {
      const existing =
        (seed.msisdn === undefined ? undefined : await this.findByParty('MSISDN', seed.msisdn)) ??
        (seed.accountId === undefined ? undefined : await this.findByParty('ACCOUNT_ID', seed.accountId))
      const customer = existing ?? (await this.create(seed))
      if (seed.balance !== undefined) {
        const amount = parseAmount(seed.balance, this.#config.currency, { grammar: 'decimal' })
        if (!amount.ok) throw new ValidationError(`opening balance "${seed.balance}" is not a valid amount (${amount.status})`)
        // Keyed by the customer: seeding again finds the deposit made and moves nothing.
        if (amount.value > 0n) await this.deposit(customer, amount.value, ledgerTransferId(this.#config.dfspId, 'dep', customer.customerId))
      }
      customers.push(customer)
    }
    return customers
  }

  /** Cash in: FUNDING → wallet. `ledgerId` makes it idempotent. */
  async deposit(customer: Customer, amountMinor: bigint, ledgerId: string): Promise<'created' | 'exists'> {
    if (amountMinor <= 0n) throw new ValidationError('a deposit must be positive')
    const outcome = await this.#ledger.createTransfer({
      id: ledgerId,
      type: 'posted',
      debitAccountId: dfspAccountId(this.#config.dfspId, customer.currency, 'FUNDING'),
      creditAccountId: customer.walletAccountId,
      amountMinor,
      currency: customer.currency,
      reference: `deposit:${customer.customerId}`,
    })
    if (outcome.status === 'created' || outcome.status === 'exists') return outcome.status
    if (outcome.status.startsWith('exists_with_different')) throw new ConflictError(`deposit ${ledgerId} was already made with other details`, {}, 'MODIFIED_REQUEST')
    throw new HubError('INTERNAL', `the deposit could not be booked: ${outcome.status}`)
  }

  async findByParty(type: PartyIdType, identifier: string): Promise<Customer | undefined> {
    return this.#repo.findCustomerByParty(type, identifier)
  }

  async get(customerId: string): Promise<Customer | undefined> {
    return this.#repo.findCustomer(customerId)
  }

  async byMsisdn(msisdn: string): Promise<Customer> {
    const customer = MSISDN.test(msisdn) ? await this.#repo.findCustomerByParty('MSISDN', msisdn) : undefined
    if (customer === undefined) throw new NotFoundError('PARTY_NOT_FOUND', `no customer has MSISDN ${msisdn}`, { msisdn })
    return customer
  }

  list(limit = 1_000): Promise<Customer[]> {
    return this.#repo.listCustomers(limit)
  }

  async balance(customer: Customer): Promise<Balance> {
    const [wallet] = await this.#ledger.lookupAccounts([customer.walletAccountId])
    if (wallet === undefined) throw new HubError('INTERNAL', `customer ${customer.customerId} has no wallet on the ledger`)
    return {
      currency: wallet.currency,
      availableMinor: wallet.creditsPostedMinor - wallet.debitsPostedMinor - wallet.debitsPendingMinor,
      reservedMinor: wallet.debitsPendingMinor,
      postedMinor: wallet.creditsPostedMinor - wallet.debitsPostedMinor,
      incomingMinor: wallet.creditsPendingMinor,
    }
  }

  /** The wallet's journal, newest first, each row named and joined to its FSPIOP transfer. */
  async statement(customer: Customer, query: { readonly limit: number; readonly beforeSeq?: bigint }): Promise<StatementEntry[]> {
    const rows = await this.#ledger.lookupAccountTransfers(customer.walletAccountId, query)
    const parsed = rows.map((row) => ({ row, id: parseLedgerTransferId(this.#config.dfspId, row.id) }))
    const transferIds = [...new Set(parsed.flatMap(({ id }) => (id === undefined || id.kind === 'dep' ? [] : [id.ref])))]
    const transfers = transferIds.length === 0 ? [] : await this.#repo.findTransfers(transferIds)
    const byId = new Map<string, TransferRecord>()
    // A transfer this DFSP was both payer and payee of (on-us through the switch): the wallet's side decides.
    for (const transfer of transfers) if (transfer.customerId === customer.customerId || !byId.has(transfer.transferId)) byId.set(transfer.transferId, transfer)
    return parsed.map(({ row, id }) => {
      const direction = row.debitAccountId === customer.walletAccountId ? 'DEBIT' : 'CREDIT'
      const transferId = id === undefined || id.kind === 'dep' ? null : id.ref
      return {
        seq: row.seq,
        ledgerTransferId: row.id,
        kind: id === undefined ? 'OTHER' : id.kind === 'cp' && row.type === 'pending' ? 'PAYMENT_INCOMING' : STATEMENT_KINDS[id.kind],
        direction,
        amountMinor: row.amountMinor,
        currency: row.currency,
        pendingState: row.pendingState,
        transferId,
        transfer: transferId === null ? undefined : byId.get(transferId),
        createdAtMs: row.createdAtMs,
      }
    })
  }

  /** The customer as an FSPIOP Party, as this DFSP answers a look-up for it. */
  partyOf(customer: Customer, type: PartyIdType, identifier: string): Party {
    const complexName = {
      ...(customer.firstName === null ? {} : { firstName: customer.firstName }),
      ...(customer.middleName === null ? {} : { middleName: customer.middleName }),
      ...(customer.lastName === null ? {} : { lastName: customer.lastName }),
    }
    const personalInfo = {
      ...(Object.keys(complexName).length === 0 ? {} : { complexName }),
      ...(customer.dateOfBirth === null ? {} : { dateOfBirth: customer.dateOfBirth }),
    }
    return {
      partyIdInfo: { partyIdType: type, partyIdentifier: identifier, fspId: this.#config.dfspId },
      name: customer.name,
      ...(Object.keys(personalInfo).length === 0 ? {} : { personalInfo }),
    }
  }

  /** The party id this DFSP identifies a customer by when it pays: the MSISDN, else the account id. */
  payerPartyOf(customer: Customer): Party {
    return customer.msisdn !== null ? this.partyOf(customer, 'MSISDN', customer.msisdn) : this.partyOf(customer, 'ACCOUNT_ID', customer.accountId ?? '')
  }
}

const STATEMENT_KINDS: { readonly [K in EntryKind]: StatementKind } = {
  dep: 'DEPOSIT',
  hp: 'PAYMENT_HOLD',
  hf: 'FEE_HOLD',
  Php: 'PAYMENT_SENT',
  Phf: 'FEE_CHARGED',
  Vhp: 'PAYMENT_RELEASED',
  Vhf: 'FEE_RELEASED',
  cp: 'PAYMENT_RECEIVED', // PAYMENT_INCOMING while pending (RESERVED mode)
  cf: 'OTHER', // the payee fee never touches the wallet
  Pcp: 'PAYMENT_RECEIVED',
  Pcf: 'OTHER',
  Vcp: 'PAYMENT_CANCELLED',
  Vcf: 'OTHER',
  rp: 'PAYMENT_REVERSED',
  rf: 'OTHER',
}

export function formatBalance(balance: Balance): Record<string, string> {
  return {
    currency: balance.currency,
    available: formatFixed(balance.availableMinor, balance.currency),
    reserved: formatFixed(balance.reservedMinor, balance.currency),
    posted: formatFixed(balance.postedMinor, balance.currency),
    incoming: formatFixed(balance.incomingMinor, balance.currency),
  }
}

function checkNewCustomer(input: NewCustomer): NewCustomer {
  const problems: string[] = []
  const text = (field: keyof NewCustomer, schema: 'PartyName' | 'FirstName' | 'MiddleName' | 'LastName' | 'DateOfBirth'): void => {
    const value = input[field]
    if (value !== undefined && !validateFspiopSchema(schema, value).ok) problems.push(`${field} is not a valid FSPIOP ${schema}`)
  }
  if (typeof input.name !== 'string') problems.push('name is required')
  text('name', 'PartyName')
  text('firstName', 'FirstName')
  text('middleName', 'MiddleName')
  text('lastName', 'LastName')
  text('dateOfBirth', 'DateOfBirth')
  if (input.msisdn === undefined && input.accountId === undefined) problems.push('an msisdn or an accountId is required')
  if (input.msisdn !== undefined && !MSISDN.test(input.msisdn)) problems.push('msisdn must be 3 to 15 digits')
  if (input.accountId !== undefined && !ACCOUNT_ID.test(input.accountId)) problems.push('accountId must be 1 to 64 of A-Z a-z 0-9 . _ -')
  if (problems.length > 0) throw new ValidationError(problems.join('; '), { problems })
  return input
}
