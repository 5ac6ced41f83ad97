// SPDX-License-Identifier: Apache-2.0
/**
 * Group commit: operations submitted concurrently wait in one queue and are applied in batches, one
 * database transaction per batch, each operation still getting its own result. A promise resolves only
 * after its batch has committed (and so is on disk); a batch that fails to commit rejects its promises,
 * and nothing of it was acknowledged.
 */
import { assert } from '../../core/assert.ts'
import { systemClock, type Clock } from '../../core/clock.ts'
import { applyBatch, referencedIds, type BatchWrites, type EventResult, type LedgerEvent } from '../../ledger/apply.ts'
import type { AccountTransfersQuery, ExpiryOutcome, JournalEntry, Ledger, TransferOutcome } from '../../ledger/ledger.ts'
import type { CreateAccountStatus, SetLimitsStatus } from '../../ledger/statuses.ts'
import type { Account, AccountInput, LimitsInput, StoredTransfer, TransferInput } from '../../ledger/types.ts'
import type { SqlClient, SqlExecutor } from '../ports.ts'
import * as repo from './ledger-repo.ts'

export interface BatchingLedgerOptions {
  readonly clock?: Clock
  /** Most events in one database transaction. */
  readonly batchEventsMax?: number
  /** The scheme's maximum amount per operation, per currency. */
  readonly schemeMaxMinor?: (currency: string) => bigint
  /** Called after every committed batch: for benchmarks and metrics. */
  readonly onBatch?: (events: number, durationMs: number) => void
}

interface Submission {
  readonly events: readonly LedgerEvent[]
  readonly resolve: (results: EventResult[]) => void
  readonly reject: (error: unknown) => void
}

const RETRIES_MAX = 20

export class BatchingLedger implements Ledger {
  readonly #store: SqlClient
  readonly #clock: Clock
  readonly #batchEventsMax: number
  readonly #options: BatchingLedgerOptions
  #queue: Submission[] = []
  #draining = false
  #closed = false
  #idle: Promise<void> = Promise.resolve()
  readonly #cache: LedgerCache | null

  constructor(store: SqlClient, options: BatchingLedgerOptions = {}) {
    this.#store = store
    this.#clock = options.clock ?? systemClock
    this.#batchEventsMax = options.batchEventsMax ?? 2_000
    this.#options = options
    this.#cache = store.sharedWriters ? null : new LedgerCache()
    assert(this.#batchEventsMax >= 1, 'a batch holds at least one event')
  }

  async createAccounts(inputs: readonly AccountInput[]): Promise<CreateAccountStatus[]> {
    const results = await this.#submit(inputs.map((input) => ({ kind: 'create_account', input })))
    return results.map((result) => (result as Extract<EventResult, { kind: 'create_account' }>).status)
  }

  async createTransfers(inputs: readonly TransferInput[]): Promise<TransferOutcome[]> {
    const results = await this.#submit(inputs.map((input) => ({ kind: 'create_transfer', input })))
    return results.map((result) => {
      const r = result as Extract<EventResult, { kind: 'create_transfer' }>
      return r.transfer === undefined ? { status: r.status } : { status: r.status, transfer: r.transfer }
    })
  }

  async createTransfer(input: TransferInput): Promise<TransferOutcome> {
    const [outcome] = await this.createTransfers([input])
    assert(outcome !== undefined, 'one outcome per transfer')
    return outcome
  }

  async setLimits(input: LimitsInput): Promise<SetLimitsStatus> {
    const [result] = await this.#submit([{ kind: 'set_limits', input }])
    return (result as Extract<EventResult, { kind: 'set_limits' }>).status
  }

  async expireDue(limit = 1_000): Promise<ExpiryOutcome[]> {
    const due = await repo.dueExpiries(this.#store, this.#clock.nowMs(), limit)
    // One submission per expiry: they are independent, and all land in the same batch anyway.
    const outcomes = await Promise.all(
      due.map(async (pendingId) => {
        const [result] = await this.#submit([{ kind: 'expire_pending', pendingId }])
        const r = result as Extract<EventResult, { kind: 'expire_pending' }>
        return r.transfer === undefined ? { pendingId, status: r.status } : { pendingId, status: r.status, transfer: r.transfer }
      }),
    )
    return outcomes
  }

  lookupAccounts(ids: readonly string[]): Promise<Account[]> {
    return repo.lookupAccounts(this.#store, ids)
  }

  lookupTransfers(ids: readonly string[]): Promise<StoredTransfer[]> {
    return repo.lookupTransfers(this.#store, ids)
  }

  lookupAccountTransfers(accountId: string, query: AccountTransfersQuery): Promise<JournalEntry[]> {
    assert(Number.isInteger(query.limit) && query.limit >= 1 && query.limit <= 1_000, 'a statement page holds 1 to 1,000 rows')
    return repo.lookupAccountTransfers(this.#store, accountId, query)
  }

  /** Stops taking work and waits for what was submitted to commit. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#draining || this.#queue.length > 0) await this.#idle
  }

  #submit(events: LedgerEvent[]): Promise<EventResult[]> {
    if (this.#closed) return Promise.reject(new Error('ledger is closed'))
    if (events.length === 0) return Promise.resolve([])
    return new Promise<EventResult[]>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject })
      if (!this.#draining) {
        this.#draining = true
        // Wait one turn of the event loop so that everything submitted now joins the first batch.
        this.#idle = new Promise<void>((done) => setImmediate(() => void this.#drain().finally(done)))
      }
    })
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        let events = 0
        let take = 0
        while (take < this.#queue.length && (take === 0 || events + (this.#queue[take] as Submission).events.length <= this.#batchEventsMax)) {
          events += (this.#queue[take] as Submission).events.length
          take += 1
        }
        const batch = this.#queue.splice(0, take)
        await this.#commitIsolating(batch)
      }
    } finally {
      this.#draining = false
    }
  }

  /** A batch that fails for a reason other than a conflict is retried one submission at a time, so one bad
   * operation cannot fail the others that happened to share its batch. */
  async #commitIsolating(batch: Submission[]): Promise<void> {
    try {
      const results = await this.#commit(batch.map((s) => s.events))
      batch.forEach((submission, i) => submission.resolve(results[i] as EventResult[]))
    } catch (error) {
      if (batch.length === 1) {
        ;(batch[0] as Submission).reject(error)
        return
      }
      for (const submission of batch) await this.#commitIsolating([submission])
    }
  }

  async #commit(submissions: readonly (readonly LedgerEvent[])[]): Promise<EventResult[][]> {
    for (let attempt = 1; ; attempt += 1) {
      const startedMs = performance.now()
      try {
        const applied = await this.#store.transaction((tx) => this.#applyIn(tx, submissions))
        this.#remember(applied.loaded, applied.writes)
        this.#options.onBatch?.(submissions.reduce((n, s) => n + s.length, 0), performance.now() - startedMs)
        return applied.results
      } catch (error) {
        this.#cache?.clear()
        if (!this.#store.isRetryable(error) || attempt >= RETRIES_MAX) throw error
        // Another process won a race for the same rows; back off a little, with jitter, and run again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * attempt))
      }
    }
  }

  async #applyIn(tx: SqlExecutor, submissions: readonly (readonly LedgerEvent[])[]): Promise<Applied> {
    const cache = this.#cache
    if (cache !== null) cache.validate(await this.#store.foreignWriteToken(tx))
    const ids = referencedIds(submissions)
    const transfers = cache === null ? new Map<string, StoredTransfer>() : cache.takePending(ids.transferIds)
    for (const [id, transfer] of await repo.findTransfers(tx, ids.transferIds.filter((id) => !transfers.has(id)))) transfers.set(id, transfer)
    const accountIds = new Set(ids.accountIds)
    for (const transfer of transfers.values()) {
      accountIds.add(transfer.debitAccountId)
      accountIds.add(transfer.creditAccountId)
    }
    const accounts = cache === null ? new Map<string, Account>() : cache.takeAccounts(accountIds)
    const loaded = await repo.readAccounts(tx, [...accountIds].filter((id) => !accounts.has(id)), this.#store.sharedWriters)
    for (const [id, account] of loaded) accounts.set(id, account)
    if (this.#store.sharedWriters) {
      // With other writers, what was read before the locks may be stale: read the transfers again, and lock
      // the accounts of any that appeared meanwhile (a conflict then is retried, never applied wrongly).
      for (const [id, transfer] of await repo.findTransfers(tx, ids.transferIds)) transfers.set(id, transfer)
      const missing = [...transfers.values()].flatMap((t) => [t.debitAccountId, t.creditAccountId]).filter((id) => !accounts.has(id))
      if (missing.length > 0) for (const [id, account] of await repo.readAccounts(tx, missing, true)) accounts.set(id, account)
    }
    const { results, writes } = applyBatch({ accounts, transfers }, submissions, {
      nowMs: this.#clock.nowMs(),
      ...(this.#options.schemeMaxMinor === undefined ? {} : { schemeMaxMinor: this.#options.schemeMaxMinor }),
    })
    await repo.writeBatch(tx, writes)
    return { results, writes, loaded }
  }

  /** After a commit, the cache learns what the batch read and wrote. */
  #remember(loaded: ReadonlyMap<string, Account>, writes: BatchWrites): void {
    const cache = this.#cache
    if (cache === null) return
    for (const account of loaded.values()) cache.putAccount(account)
    for (const account of writes.accountsCreated) cache.putAccount(account)
    for (const account of writes.accountsUpdated) cache.putAccount(account)
    for (const transfer of writes.transfersCreated) {
      if (transfer.type === 'pending') cache.putPending({ ...transfer, pendingState: 'pending' })
      else if (transfer.pendingId !== null) cache.dropPending(transfer.pendingId)
    }
  }
}

interface Applied {
  readonly results: EventResult[][]
  readonly writes: BatchWrites
  readonly loaded: ReadonlyMap<string, Account>
}

const CACHE_ENTRIES_MAX = 1_000_000

/**
 * Where one process is the only writer (SQLite), accounts and open pending transfers are kept in memory
 * between batches, so a batch reads from the database only what it has not seen. Any commit by another
 * connection changes the store's token and empties the cache; so does any failed batch.
 */
class LedgerCache {
  readonly #accounts = new Map<string, Account>()
  readonly #pending = new Map<string, StoredTransfer>()
  #token: string | null = null

  validate(token: string | null): void {
    if (token === null || token !== this.#token) this.clear()
    this.#token = token
  }

  clear(): void {
    this.#accounts.clear()
    this.#pending.clear()
    this.#token = null
  }

  takeAccounts(ids: Iterable<string>): Map<string, Account> {
    const found = new Map<string, Account>()
    for (const id of ids) {
      const account = this.#accounts.get(id)
      if (account !== undefined) found.set(id, account)
    }
    return found
  }

  takePending(ids: readonly string[]): Map<string, StoredTransfer> {
    const found = new Map<string, StoredTransfer>()
    for (const id of ids) {
      const transfer = this.#pending.get(id)
      if (transfer !== undefined) found.set(id, transfer)
    }
    return found
  }

  putAccount(account: Account): void {
    if (this.#accounts.size >= CACHE_ENTRIES_MAX) this.#accounts.clear()
    this.#accounts.set(account.id, account)
  }

  putPending(transfer: StoredTransfer): void {
    if (this.#pending.size >= CACHE_ENTRIES_MAX) this.#pending.clear()
    this.#pending.set(transfer.id, transfer)
  }

  dropPending(id: string): void {
    this.#pending.delete(id)
  }
}
