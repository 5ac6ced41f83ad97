// SPDX-License-Identifier: Apache-2.0
/**
 * The ledger's rules as one pure function: given the accounts and transfers a batch touches, apply the
 * batch's events in order and return one result per event plus the rows to write. No I/O happens here,
 * so the same code runs on SQLite and PostgreSQL and under the property tests' reference model.
 */
import { assert, AssertionFailed, unreachable } from '../core/assert.ts'
import { isLedgerId } from '../core/ids.ts'
import { DEFAULT_SCHEME_MAX_MINOR, INT64_MAX, findCurrency } from '../core/money.ts'
import { nextPendingState, type PendingEvent } from './pending-state.ts'
import type { CreateAccountStatus, CreateTransferStatus, ExpireStatus, SetLimitsStatus } from './statuses.ts'
import type { Account, AccountInput, LimitsInput, PendingState, StoredTransfer, Transfer, TransferInput } from './types.ts'

export type LedgerEvent =
  | { readonly kind: 'create_account'; readonly input: AccountInput }
  | { readonly kind: 'create_transfer'; readonly input: TransferInput }
  | { readonly kind: 'set_limits'; readonly input: LimitsInput }
  | { readonly kind: 'expire_pending'; readonly pendingId: string }

export type EventResult =
  | { readonly kind: 'create_account'; readonly status: CreateAccountStatus }
  | { readonly kind: 'create_transfer'; readonly status: CreateTransferStatus; readonly transfer?: Transfer }
  | { readonly kind: 'set_limits'; readonly status: SetLimitsStatus }
  | { readonly kind: 'expire_pending'; readonly status: ExpireStatus; readonly transfer?: Transfer }

/** The rows a batch writes, in one database transaction. */
export interface BatchWrites {
  readonly accountsCreated: Account[]
  /** Existing accounts whose counters or limits changed: their final values. */
  readonly accountsUpdated: Account[]
  /** New journal rows, in the order they were applied. */
  readonly transfersCreated: Transfer[]
  /** Pending transfers with an expiry, to be found by the expiry sweeper. */
  readonly expiriesOpened: { readonly id: string; readonly expiresAtMs: number }[]
  /** Pending transfers with an expiry resolved by this batch: no longer due (keyed like expiriesOpened). */
  readonly expiriesClosed: { readonly id: string; readonly expiresAtMs: number }[]
}

/** What a batch reads before applying: every account and transfer its events name. */
export interface BatchSnapshot {
  readonly accounts: ReadonlyMap<string, Account>
  readonly transfers: ReadonlyMap<string, StoredTransfer>
}

export interface ApplyOptions {
  readonly nowMs: number
  /** The scheme's maximum amount per operation, per currency. */
  readonly schemeMaxMinor?: (currency: string) => bigint
}

/**
 * Ids a batch must read before it can be applied; post/void also need their pending transfers' accounts.
 * `actedOnIds` is the part of `transferIds` that events act on (pending transfers to post, void or expire),
 * as opposed to the ids new transfers claim, which exist only if the transfer is a replay. Ids are taken as
 * given: a malformed one is simply never found (the store does not look it up) and gets its status here.
 */
export function referencedIds(submissions: readonly (readonly LedgerEvent[])[]): {
  transferIds: ReadonlySet<string>
  actedOnIds: ReadonlySet<string>
  accountIds: ReadonlySet<string>
} {
  const transferIds = new Set<string>()
  const actedOnIds = new Set<string>()
  const accountIds = new Set<string>()
  for (const events of submissions) {
    for (const event of events) {
      switch (event.kind) {
        case 'create_account':
          addId(accountIds, event.input.id)
          break
        case 'set_limits':
          addId(accountIds, event.input.accountId)
          break
        case 'expire_pending':
          addId(transferIds, event.pendingId)
          addId(actedOnIds, event.pendingId)
          break
        case 'create_transfer': {
          const t = event.input
          addId(transferIds, t.id)
          if (t.pendingId !== undefined) {
            addId(transferIds, t.pendingId)
            addId(actedOnIds, t.pendingId)
          }
          addId(accountIds, t.debitAccountId)
          addId(accountIds, t.creditAccountId)
          break
        }
        default:
          unreachable(event, 'ledger event')
      }
    }
  }
  return { transferIds, actedOnIds, accountIds }
}

function addId(ids: Set<string>, id: string | undefined): void {
  if (typeof id === 'string') ids.add(id)
}

const EXPIRY_SUFFIX = '~expired'

/** The id of the journal row that records a pending transfer's expiry ('~' never appears in caller ids). */
export function expiryId(pendingId: string): string {
  return `${pendingId}${EXPIRY_SUFFIX}`
}

/** An id a journal row can have: a caller's ledger id, or the expiry id derived from one. */
export function isJournalId(id: string): boolean {
  return isLedgerId(id) || (id.endsWith(EXPIRY_SUFFIX) && isLedgerId(id.slice(0, -EXPIRY_SUFFIX.length)))
}

const ACCOUNT_CODE = /^[A-Z0-9_]{1,32}$/
const REFERENCE_MAX_LENGTH = 128

type MutableAccount = { -readonly [K in keyof Account]: Account[K] }
type MutableTransfer = Transfer & { pendingState: PendingState | null }

/**
 * Applies submissions in order. Each submission is what one caller submitted together; a linked chain never
 * spans two submissions. Results come back in the same shape as the input; `transfers` is what the batch
 * made of every transfer it created or resolved, in its final state (what a later batch must see).
 */
export function applyBatch(
  snapshot: BatchSnapshot,
  submissions: readonly (readonly LedgerEvent[])[],
  options: ApplyOptions,
): BatchApplied {
  return applyWith(new BatchEngine(snapshot, options, false), submissions)
}

/**
 * applyBatch on maps the caller gives up: the engine works in them instead of building its own (each value is
 * replaced by the engine's copy, and the batch's new transfers are added), which spares a map per batch of
 * thousands of entries. The objects the maps held are not changed; the maps must not be used again.
 */
export function applyBatchAdopting(
  snapshot: { readonly accounts: Map<string, Account>; readonly transfers: Map<string, StoredTransfer> },
  submissions: readonly (readonly LedgerEvent[])[],
  options: ApplyOptions,
): BatchApplied {
  return applyWith(new BatchEngine(snapshot, options, true), submissions)
}

export interface BatchApplied {
  readonly results: EventResult[][]
  readonly writes: BatchWrites
  readonly transfers: ReadonlyMap<string, StoredTransfer>
}

function applyWith(engine: BatchEngine, submissions: readonly (readonly LedgerEvent[])[]): BatchApplied {
  const results = submissions.map((events) => engine.applySubmission(events))
  return { results, writes: engine.writes(), transfers: engine.touchedTransfers() }
}

class BatchEngine {
  readonly #accounts: Map<string, MutableAccount>
  readonly #transfers: Map<string, MutableTransfer>
  // Accounts and transfers are keyed by id once, when first read; after that the engine holds the objects.
  // A string-keyed hit compares the key character by character (ids arrive as new strings), and on the
  // ledger's main thread those look-ups were a quarter of its time.
  readonly #accountsCreated = new Set<MutableAccount>()
  readonly #accountsTouched = new Set<MutableAccount>()
  /** What the last #checkTransfer that answered `created` found: #createTransfer goes on with them. */
  #checkedDebit: MutableAccount | undefined
  #checkedCredit: MutableAccount | undefined
  #checkedPending: MutableTransfer | undefined
  /** Transfers created or resolved, by id, in their latest state. */
  readonly #transfersTouched = new Map<string, MutableTransfer>()
  /** Journal rows in order; an undone chain removes its rows again. */
  readonly #journal: Transfer[] = []
  readonly #options: ApplyOptions
  /** Undo log for the linked chain being applied; null outside a chain. */
  #undo: (() => void)[] | null = null

  constructor(snapshot: BatchSnapshot, options: ApplyOptions, adopt: boolean) {
    // The engine works on copies: the snapshot's objects are the caller's (its cache), and a batch that fails
    // must leave them as they were. forEach: a for…of over entries allocated a [key, value] pair per entry.
    if (adopt) {
      const accounts = snapshot.accounts as Map<string, MutableAccount>
      const transfers = snapshot.transfers as Map<string, MutableTransfer>
      accounts.forEach((account, id) => accounts.set(id, copyAccount(account)))
      transfers.forEach((transfer, id) => transfers.set(id, storedRow(transfer, (transfer as StoredTransfer).pendingState)))
      this.#accounts = accounts
      this.#transfers = transfers
    } else {
      this.#accounts = new Map()
      this.#transfers = new Map()
      snapshot.accounts.forEach((account, id) => this.#accounts.set(id, copyAccount(account)))
      snapshot.transfers.forEach((transfer, id) => this.#transfers.set(id, storedRow(transfer, transfer.pendingState)))
    }
    this.#options = options
  }

  applySubmission(events: readonly LedgerEvent[]): EventResult[] {
    const results: EventResult[] = []
    let chainStart = -1
    for (let index = 0; index < events.length; index += 1) {
      const event = events[index] as LedgerEvent
      const linked = event.kind === 'create_transfer' && event.input.linked === true
      if (chainStart === -1 && linked) {
        chainStart = index
        this.#undo = []
      }
      const inChain = chainStart !== -1
      // A chain still open when its submission ends fails whole, whatever its last member would have said.
      const result: EventResult =
        linked && index === events.length - 1 ? { kind: 'create_transfer', status: 'linked_event_chain_open' } : this.#applyEvent(event)
      results.push(result)
      const succeeded = result.status === 'created' || result.status === 'exists'
      if (inChain && !succeeded) {
        if (this.#undo !== null) this.#rollback()
        // Every other member of the chain fails with it, including those not yet applied.
        for (let other = chainStart; other < index; other += 1) results[other] = { kind: 'create_transfer', status: 'linked_event_failed' }
        let end = index
        while (end < events.length - 1 && isLinked(events[end] as LedgerEvent)) {
          end += 1
          results.push({ kind: 'create_transfer', status: 'linked_event_failed' })
        }
        index = end
        chainStart = -1
        this.#undo = null
        continue
      }
      if (inChain && !linked) {
        chainStart = -1 // the chain's last member succeeded: keep its effects
        this.#undo = null
      }
    }
    return results
  }

  /** The batch's rows. The engine is done once asked: the accounts are its own copies, handed over. */
  writes(): BatchWrites {
    const accountsCreated: Account[] = []
    const accountsUpdated: Account[] = []
    for (const account of this.#accountsTouched) (this.#accountsCreated.has(account) ? accountsCreated : accountsUpdated).push(account)
    const expiriesOpened: { id: string; expiresAtMs: number }[] = []
    const expiriesClosed: { id: string; expiresAtMs: number }[] = []
    for (const row of this.#journal) {
      if (row.type === 'pending' && row.expiresAtMs !== null) expiriesOpened.push({ id: row.id, expiresAtMs: row.expiresAtMs })
      if (row.pendingId === null) continue
      const pending = this.#transfers.get(row.pendingId)
      assert(pending !== undefined, 'a resolved pending transfer was read or created')
      if (pending.expiresAtMs !== null) expiriesClosed.push({ id: pending.id, expiresAtMs: pending.expiresAtMs })
    }
    return { accountsCreated, accountsUpdated, transfersCreated: [...this.#journal], expiriesOpened, expiriesClosed }
  }

  touchedTransfers(): ReadonlyMap<string, StoredTransfer> {
    return this.#transfersTouched
  }

  #rollback(): void {
    const undo = this.#undo
    assert(undo !== null, 'rollback happens inside a chain')
    for (let i = undo.length - 1; i >= 0; i -= 1) (undo[i] as () => void)()
    this.#undo = []
  }

  #applyEvent(event: LedgerEvent): EventResult {
    switch (event.kind) {
      case 'create_account':
        return { kind: 'create_account', status: this.#createAccount(event.input) }
      case 'set_limits':
        return { kind: 'set_limits', status: this.#setLimits(event.input) }
      case 'expire_pending':
        return this.#expire(event.pendingId)
      case 'create_transfer':
        return this.#createTransfer(event.input)
      default:
        return unreachable(event, 'ledger event')
    }
  }

  #createAccount(input: AccountInput): CreateAccountStatus {
    if (typeof input.id !== 'string' || !isLedgerId(input.id)) return 'id_invalid'
    if (typeof input.code !== 'string' || !ACCOUNT_CODE.test(input.code)) return 'code_invalid'
    if (findCurrency(input.currency) === undefined) return 'currency_unknown'
    const debitsLimitMinor = input.debitsLimitMinor ?? null
    const creditsLimitMinor = input.creditsLimitMinor ?? null
    const limitStatus = checkLimits(debitsLimitMinor, creditsLimitMinor)
    if (limitStatus !== null) return limitStatus
    const existing = this.#accounts.get(input.id)
    if (existing !== undefined) {
      if (existing.currency !== input.currency) return 'exists_with_different_currency'
      if (existing.code !== input.code) return 'exists_with_different_code'
      if (existing.debitsLimitMinor !== debitsLimitMinor || existing.creditsLimitMinor !== creditsLimitMinor) return 'exists_with_different_limits'
      return 'exists'
    }
    const account: MutableAccount = {
      id: input.id,
      currency: input.currency,
      code: input.code,
      debitsLimitMinor,
      creditsLimitMinor,
      debitsPendingMinor: 0n,
      debitsPostedMinor: 0n,
      creditsPendingMinor: 0n,
      creditsPostedMinor: 0n,
      createdAtMs: this.#options.nowMs,
    }
    this.#accounts.set(input.id, account)
    this.#accountsCreated.add(account)
    this.#accountsTouched.add(account)
    return 'created'
  }

  #setLimits(input: LimitsInput): SetLimitsStatus {
    const account = this.#accounts.get(input.accountId)
    if (account === undefined) return 'account_not_found'
    const { debitsLimitMinor, creditsLimitMinor } = input
    const limitStatus = checkLimits(debitsLimitMinor, creditsLimitMinor)
    if (limitStatus !== null) return limitStatus
    // A limit below what the account already carries would make the stored state break its own rule.
    if (debitsLimitMinor !== null && account.debitsPendingMinor + account.debitsPostedMinor > account.creditsPostedMinor + debitsLimitMinor) {
      return 'exceeds_credits'
    }
    if (creditsLimitMinor !== null && account.creditsPendingMinor + account.creditsPostedMinor > account.debitsPostedMinor + creditsLimitMinor) {
      return 'exceeds_debits'
    }
    account.debitsLimitMinor = debitsLimitMinor
    account.creditsLimitMinor = creditsLimitMinor
    this.#accountsTouched.add(account)
    return 'updated'
  }

  #expire(pendingId: string): EventResult {
    const pending = this.#transfers.get(pendingId)
    if (pending === undefined) return { kind: 'expire_pending', status: 'pending_transfer_not_found' }
    if (pending.type !== 'pending') return { kind: 'expire_pending', status: 'pending_transfer_not_pending' }
    if (pending.pendingState !== 'pending') return { kind: 'expire_pending', status: 'already_resolved' }
    if (pending.expiresAtMs === null || pending.expiresAtMs > this.#options.nowMs) return { kind: 'expire_pending', status: 'not_due' }
    const transfer = this.#resolve(pending, 'expire', expiryId(pendingId), pending.amountMinor, null)
    return { kind: 'expire_pending', status: 'expired', transfer }
  }

  #createTransfer(t: TransferInput): EventResult {
    const status = this.#checkTransfer(t)
    if (status !== 'created') {
      if (status === 'exists') return { kind: 'create_transfer', status, transfer: journalRow(this.#transfers.get(t.id) as MutableTransfer) }
      return { kind: 'create_transfer', status }
    }
    let transfer: Transfer
    if (t.type === 'posted' || t.type === 'pending') {
      const row: Transfer = {
        id: t.id,
        type: t.type,
        debitAccountId: t.debitAccountId as string,
        creditAccountId: t.creditAccountId as string,
        amountMinor: t.amountMinor as bigint,
        currency: t.currency as string,
        pendingId: null,
        expiresAtMs: t.expiresAtMs ?? null,
        reference: t.reference ?? null,
        createdAtMs: this.#options.nowMs,
      }
      transfer = this.#record(t.exemptFromDebitsLimit === true && t.type === 'posted' ? { ...row, exemptFromDebitsLimit: true } : row)
      const posted = t.type === 'posted'
      const debit = this.#checkedDebit as MutableAccount
      const credit = this.#checkedCredit as MutableAccount
      this.#addTo(debit, posted ? 'debitsPostedMinor' : 'debitsPendingMinor', transfer.amountMinor)
      this.#addTo(credit, posted ? 'creditsPostedMinor' : 'creditsPendingMinor', transfer.amountMinor)
      if (transfer.exemptFromDebitsLimit === true) this.#addExempt(debit, transfer.amountMinor)
    } else {
      const pending = this.#checkedPending
      assert(pending !== undefined && pending.id === t.pendingId, 'checked pending transfer exists')
      const event: PendingEvent = t.type === 'post_pending' ? 'post' : 'void'
      const amountMinor = t.type === 'post_pending' ? (t.amountMinor ?? pending.amountMinor) : pending.amountMinor
      transfer = this.#resolve(pending, event, t.id, amountMinor, t.reference ?? null)
    }
    return { kind: 'create_transfer', status: 'created', transfer }
  }

  /** The rules in CREATE_TRANSFER_STATUSES order; the first that fails is the answer. */
  #checkTransfer(t: TransferInput): CreateTransferStatus {
    const resolving = t.type === 'post_pending' || t.type === 'void_pending'
    if (typeof t.id !== 'string' || !isLedgerId(t.id)) return 'id_invalid'
    if (t.reference !== undefined && !isWellFormedText(t.reference, REFERENCE_MAX_LENGTH)) return 'reference_invalid'
    if (!resolving && t.pendingId !== undefined) return 'pending_id_must_be_empty'
    if (resolving && (t.pendingId === undefined || t.pendingId === '')) return 'pending_id_must_not_be_empty'
    if (resolving && t.pendingId === t.id) return 'pending_id_must_be_different'
    if (t.type !== 'pending' && t.expiresAtMs !== undefined) return 'expiry_reserved_for_pending_transfer'
    if (t.expiresAtMs !== undefined && !(Number.isSafeInteger(t.expiresAtMs) && t.expiresAtMs > 0)) return 'expiry_invalid'
    if (t.exemptFromDebitsLimit === true && t.type !== 'posted') return 'exemption_reserved_for_posted_transfer'
    if (!resolving && (t.debitAccountId === undefined || t.debitAccountId === '')) return 'debit_account_id_must_not_be_empty'
    if (!resolving && (t.creditAccountId === undefined || t.creditAccountId === '')) return 'credit_account_id_must_not_be_empty'
    if (t.debitAccountId !== undefined && t.debitAccountId === t.creditAccountId) return 'accounts_must_be_different'
    if (!resolving && typeof t.amountMinor !== 'bigint') return 'amount_must_be_positive'
    if (t.amountMinor !== undefined && (typeof t.amountMinor !== 'bigint' || t.amountMinor <= 0n)) return 'amount_must_be_positive'
    if (!resolving && t.currency === undefined) return 'currency_unknown'
    if (t.currency !== undefined && findCurrency(t.currency) === undefined) return 'currency_unknown'
    const max = t.currency === undefined ? DEFAULT_SCHEME_MAX_MINOR : this.#schemeMax(t.currency)
    if (t.amountMinor !== undefined && t.amountMinor > max) return 'amount_exceeds_scheme_max'
    let debit: MutableAccount | undefined
    let credit: MutableAccount | undefined
    if (!resolving) {
      debit = this.#accounts.get(t.debitAccountId as string)
      credit = this.#accounts.get(t.creditAccountId as string)
      if (debit === undefined) return 'debit_account_not_found'
      if (credit === undefined) return 'credit_account_not_found'
      if (debit.currency !== t.currency || credit.currency !== t.currency) return 'currency_must_match_accounts'
    }
    const existing = this.#transfers.get(t.id)
    if (existing !== undefined) return compareWithExisting(t, existing)
    if (resolving) {
      const pending = this.#transfers.get(t.pendingId as string)
      if (pending === undefined) return 'pending_transfer_not_found'
      const status = this.#checkResolution(t, pending)
      if (status !== 'created') return status
      this.#checkedPending = pending
      return t.type === 'post_pending' ? this.#checkPostOverflow(t, pending) : 'created'
    }
    if (t.type === 'pending' && t.expiresAtMs !== undefined && t.expiresAtMs <= this.#options.nowMs) return 'expiry_must_be_in_future'
    this.#checkedDebit = debit
    this.#checkedCredit = credit
    return this.#checkBalances(t, debit as MutableAccount, credit as MutableAccount)
  }

  #checkResolution(t: TransferInput, pending: MutableTransfer): CreateTransferStatus {
    if (pending.type !== 'pending') return 'pending_transfer_not_pending'
    if (t.debitAccountId !== undefined && t.debitAccountId !== pending.debitAccountId) return 'pending_transfer_has_different_debit_account_id'
    if (t.creditAccountId !== undefined && t.creditAccountId !== pending.creditAccountId) return 'pending_transfer_has_different_credit_account_id'
    if (t.currency !== undefined && t.currency !== pending.currency) return 'pending_transfer_has_different_currency'
    if (t.type === 'post_pending' && t.amountMinor !== undefined && t.amountMinor > pending.amountMinor) return 'exceeds_pending_transfer_amount'
    if (t.type === 'void_pending' && t.amountMinor !== undefined && t.amountMinor !== pending.amountMinor) return 'pending_transfer_has_different_amount'
    if (pending.pendingState === 'posted') return 'pending_transfer_already_posted'
    if (pending.pendingState === 'voided') return 'pending_transfer_already_voided'
    if (pending.pendingState === 'expired') return 'pending_transfer_expired'
    // Due but not yet swept: it is expired all the same, and the sweeper will record it.
    if (pending.expiresAtMs !== null && pending.expiresAtMs <= this.#options.nowMs) return 'pending_transfer_expired'
    return 'created'
  }

  /** Posting moves pending to posted: no limit can be passed, but the posted counters grow. */
  #checkPostOverflow(t: TransferInput, pending: MutableTransfer): CreateTransferStatus {
    const amount = t.amountMinor ?? pending.amountMinor
    const debit = this.#account(pending.debitAccountId)
    const credit = this.#account(pending.creditAccountId)
    if (debit.debitsPostedMinor + amount > INT64_MAX) return 'overflows_debits'
    if (credit.creditsPostedMinor + amount > INT64_MAX) return 'overflows_credits'
    return 'created'
  }

  #checkBalances(t: TransferInput, debit: MutableAccount, credit: MutableAccount): CreateTransferStatus {
    const amount = t.amountMinor as bigint
    const posted = t.type === 'posted'
    if ((posted ? debit.debitsPostedMinor : debit.debitsPendingMinor) + amount > INT64_MAX) return 'overflows_debits'
    if ((posted ? credit.creditsPostedMinor : credit.creditsPendingMinor) + amount > INT64_MAX) return 'overflows_credits'
    if (debit.debitsLimitMinor !== null && t.exemptFromDebitsLimit !== true) {
      if (debit.debitsPendingMinor + debit.debitsPostedMinor + amount > debit.creditsPostedMinor + debit.debitsLimitMinor) return 'exceeds_credits'
    }
    if (credit.creditsLimitMinor !== null) {
      if (credit.creditsPendingMinor + credit.creditsPostedMinor + amount > credit.debitsPostedMinor + credit.creditsLimitMinor) return 'exceeds_debits'
    }
    return 'created'
  }

  #schemeMax(currency: string): bigint {
    return this.#options.schemeMaxMinor?.(currency) ?? DEFAULT_SCHEME_MAX_MINOR
  }

  /** Moves a pending transfer to its next state and books the journal row that says so. */
  #resolve(pending: MutableTransfer, event: PendingEvent, id: string, amountMinor: bigint, reference: string | null): Transfer {
    const from = pending.pendingState
    assert(from !== null, 'only pending transfers are resolved')
    const to = nextPendingState(from, event)
    if (to === undefined) throw new AssertionFailed(`pending transfer cannot ${event} from ${from}`)
    assert(amountMinor > 0n && amountMinor <= pending.amountMinor, 'a resolution moves at most the pending amount')
    const type = event === 'post' ? 'post_pending' : event === 'void' ? 'void_pending' : 'expire_pending'
    const transfer = this.#record({
      id,
      type,
      debitAccountId: pending.debitAccountId,
      creditAccountId: pending.creditAccountId,
      amountMinor,
      currency: pending.currency,
      pendingId: pending.id,
      expiresAtMs: null,
      reference,
      createdAtMs: this.#options.nowMs,
    })
    pending.pendingState = to
    const wasTouched = this.#transfersTouched.has(pending.id)
    this.#transfersTouched.set(pending.id, pending)
    if (this.#undo !== null) this.#undo.push(undoResolve(this.#transfersTouched, pending, from, wasTouched))
    const debit = this.#account(pending.debitAccountId)
    const credit = this.#account(pending.creditAccountId)
    this.#addTo(debit, 'debitsPendingMinor', -pending.amountMinor)
    this.#addTo(credit, 'creditsPendingMinor', -pending.amountMinor)
    if (event === 'post') {
      this.#addTo(debit, 'debitsPostedMinor', amountMinor)
      this.#addTo(credit, 'creditsPostedMinor', amountMinor)
    }
    return transfer
  }

  #record(transfer: Transfer): Transfer {
    const stored = storedRow(transfer, transfer.type === 'pending' ? 'pending' : null)
    this.#transfers.set(transfer.id, stored)
    this.#transfersTouched.set(transfer.id, stored)
    this.#journal.push(transfer)
    if (this.#undo !== null) this.#undo.push(undoRecord(this.#transfers, this.#transfersTouched, this.#journal, transfer))
    return transfer
  }

  /** An account the batch's snapshot must hold (the transfer that names it was read with its accounts). */
  #account(accountId: string): MutableAccount {
    const account = this.#accounts.get(accountId)
    if (account === undefined) throw new AssertionFailed(`account ${accountId} is loaded`)
    return account
  }

  #addExempt(account: MutableAccount, amountMinor: bigint): void {
    const before = account.debitsExemptMinor
    account.debitsExemptMinor = (before ?? 0n) + amountMinor
    this.#accountsTouched.add(account)
    if (this.#undo !== null) this.#undo.push(undoExempt(account, before))
  }

  #addTo(account: MutableAccount, counter: Counter, delta: bigint): void {
    account[counter] += delta
    if (account[counter] < 0n) throw new AssertionFailed(`${counter} of ${account.id} never goes negative`)
    // Touching is not undone: rewriting an unchanged account is harmless and keeps the undo log small.
    this.#accountsTouched.add(account)
    if (this.#undo !== null) this.#undo.push(undoAdd(account, counter, delta))
  }
}

// The undo steps of a linked chain, built only inside one. Hot methods call these instead of holding a
// closure of their own: a closure over a method's locals makes V8 allocate their context on every call,
// chain or not (the same goes for assertion messages, which are built only once the check has failed).
type Counter = 'debitsPendingMinor' | 'debitsPostedMinor' | 'creditsPendingMinor' | 'creditsPostedMinor'

function undoAdd(account: MutableAccount, counter: Counter, delta: bigint): () => void {
  return () => {
    account[counter] -= delta
  }
}

function undoExempt(account: MutableAccount, before: bigint | undefined): () => void {
  return () => {
    if (before === undefined) delete account.debitsExemptMinor
    else account.debitsExemptMinor = before
  }
}

function undoRecord(transfers: Map<string, MutableTransfer>, touched: Map<string, MutableTransfer>, journal: Transfer[], transfer: Transfer): () => void {
  return () => {
    transfers.delete(transfer.id)
    touched.delete(transfer.id)
    const popped = journal.pop()
    assert(popped === transfer, 'undo pops journal rows in reverse order')
  }
}

function undoResolve(touched: Map<string, MutableTransfer>, pending: MutableTransfer, from: PendingState, wasTouched: boolean): () => void {
  return () => {
    pending.pendingState = from
    if (!wasTouched) touched.delete(pending.id)
  }
}

/**
 * The engine's working copy of an account, always built with the same fields in the same order: V8 then
 * gives every account one shape, and the counters are updated through fast property access.
 */
function copyAccount(a: Account): MutableAccount {
  const copy: MutableAccount = {
    id: a.id,
    currency: a.currency,
    code: a.code,
    debitsLimitMinor: a.debitsLimitMinor,
    creditsLimitMinor: a.creditsLimitMinor,
    debitsPendingMinor: a.debitsPendingMinor,
    debitsPostedMinor: a.debitsPostedMinor,
    creditsPendingMinor: a.creditsPendingMinor,
    creditsPostedMinor: a.creditsPostedMinor,
    createdAtMs: a.createdAtMs,
  }
  if (a.debitsExemptMinor !== undefined) copy.debitsExemptMinor = a.debitsExemptMinor
  return copy
}

/** A journal row with its pending state, in one shape (see copyAccount). */
function storedRow(t: Transfer, pendingState: PendingState | null): MutableTransfer {
  const row: MutableTransfer = {
    id: t.id,
    type: t.type,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amountMinor: t.amountMinor,
    currency: t.currency,
    pendingId: t.pendingId,
    expiresAtMs: t.expiresAtMs,
    reference: t.reference,
    createdAtMs: t.createdAtMs,
    pendingState,
  }
  if (t.exemptFromDebitsLimit === true) return { ...row, exemptFromDebitsLimit: true }
  return row
}

/** Limits are stored as signed 64-bit integers, like the counters they bound. */
function checkLimits(debits: unknown, credits: unknown): 'limit_invalid' | 'limit_must_not_be_negative' | 'limit_too_large' | null {
  // From untyped callers a number or a missing field would reach bigint arithmetic and throw.
  if (!(debits === null || typeof debits === 'bigint') || !(credits === null || typeof credits === 'bigint')) return 'limit_invalid'
  if ((debits !== null && debits < 0n) || (credits !== null && credits < 0n)) return 'limit_must_not_be_negative'
  if ((debits !== null && debits > INT64_MAX) || (credits !== null && credits > INT64_MAX)) return 'limit_too_large'
  return null
}

/** Text both databases store and give back unchanged: no NUL, no lone surrogate, within a length. */
export function isWellFormedText(value: unknown, lengthMax: number): boolean {
  return typeof value === 'string' && value.length <= lengthMax && value.isWellFormed() && !value.includes('\u0000')
}

/** A journal row as callers see it: a copy, without the batch's working state. */
function journalRow(stored: MutableTransfer): Transfer {
  const { pendingState: _state, ...row } = stored
  return row
}

function isLinked(event: LedgerEvent): boolean {
  return event.kind === 'create_transfer' && event.input.linked === true
}

/** Same id: the same content is `exists`; any difference is named, in a fixed order. */
function compareWithExisting(t: TransferInput, existing: StoredTransfer): CreateTransferStatus {
  if (existing.type !== t.type) return 'exists_with_different_type'
  if (t.debitAccountId !== undefined && t.debitAccountId !== existing.debitAccountId) return 'exists_with_different_debit_account_id'
  if (t.creditAccountId !== undefined && t.creditAccountId !== existing.creditAccountId) return 'exists_with_different_credit_account_id'
  if (t.amountMinor !== undefined && t.amountMinor !== existing.amountMinor) return 'exists_with_different_amount'
  if (t.currency !== undefined && t.currency !== existing.currency) return 'exists_with_different_currency'
  if ((t.pendingId ?? null) !== existing.pendingId) return 'exists_with_different_pending_id'
  if ((t.expiresAtMs ?? null) !== existing.expiresAtMs) return 'exists_with_different_expiry'
  if ((t.reference ?? null) !== existing.reference) return 'exists_with_different_reference'
  if ((t.exemptFromDebitsLimit === true) !== (existing.exemptFromDebitsLimit === true)) return 'exists_with_different_exemption'
  return 'exists'
}
