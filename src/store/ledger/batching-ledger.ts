// SPDX-License-Identifier: Apache-2.0
/**
 * Group commit: operations submitted concurrently wait in one queue and are applied in batches, one
 * database transaction per batch, each operation still getting its own result. A promise resolves only
 * after its batch has committed (and so is on disk); a batch that fails to commit rejects its promises,
 * and nothing of it was acknowledged.
 */
import type { EventLoopUtilization } from 'node:perf_hooks'
import { assert } from '../../core/assert.ts'
import { isLedgerId } from '../../core/ids.ts'
import { systemClock, type Clock } from '../../core/clock.ts'
import { applyBatch, applyBatchAdopting, referencedIds, type BatchWrites, type EventResult, type LedgerEvent } from '../../ledger/apply.ts'
import type { AccountTransfersQuery, ExpiryOutcome, JournalEntry, Ledger, TransferOutcome } from '../../ledger/ledger.ts'
import type { CreateAccountStatus, SetLimitsStatus } from '../../ledger/statuses.ts'
import type { Account, AccountInput, LimitsInput, StoredTransfer, TransferInput } from '../../ledger/types.ts'
import type { SqlClient, SqlExecutor } from '../ports.ts'
import { SqliteClient } from '../sqlite/sqlite-client.ts'
import { catchUpAccounts } from './accounts-behind.ts'
import * as repo from './ledger-repo.ts'
import { packSqliteWrites } from './packed-writes.ts'
import { SqliteLedgerWriter } from './sqlite-ledger-writer.ts'

export interface BatchingLedgerOptions {
  readonly clock?: Clock
  /** Most events in one database transaction. */
  readonly batchEventsMax?: number
  /** The scheme's maximum amount per operation, per currency. */
  readonly schemeMaxMinor?: (currency: string) => bigint
  /** Called after every committed batch: for benchmarks and metrics. */
  readonly onBatch?: (events: number, durationMs: number) => void
  /**
   * On a SQLite file, write batches on a thread of their own, pipelined (default true). False, and on
   * ':memory:' or PostgreSQL, every batch is read, applied and committed on the calling thread.
   */
  readonly writerThread?: boolean
  /** When the writer thread's batches write the account rows back (WRITE_BACK_DEFAULTS otherwise). */
  readonly accountsWriteBack?: Partial<WriteBackPolicy>
}

/**
 * The switch and the DFSPs run their ledgers without the writer thread. Under FSPIOP traffic their batches are
 * small (~2 events each under bench:e2e), so the thread's strengths (pipelining, large commits off the main
 * thread) do not come into play, while its costs do: a postMessage round trip per batch (~45-50 µs of main-thread
 * CPU), a second connection that takes the file's write lock between the records' group commits (over a
 * quarter of their BEGIN IMMEDIATE attempts then failed and waited a turn) and resets their page cache, and a
 * COMMIT and fsync of its own. On the calling thread a batch joins the records' group commit. bench:e2e,
 * fifteen interleaved pairs: median -5.5 % CPU per full transfer, lower in 10 (docs/perf/e2e-2026-12-07.txt).
 * A process whose ledger sees large batches (bench:ledger: 4,000 events) wants the thread, which stays the
 * BatchingLedger's own default.
 */
export const LEDGER_WRITER_THREAD_DEFAULT = false

/**
 * On the writer-thread path most batches carry only journal rows, and the account rows lag behind the
 * journal (accounts-behind.ts); every few batches one carries, in their state after it, all the accounts the
 * batches since touched, each once however many touched it. A batch that creates accounts or sets limits
 * (which the journal does not hold) always does, and so does a batch of its own when the ledger has been idle
 * for a moment, and before it closes.
 */
export interface WriteBackPolicy {
  /** At most this many batches in a row leave the account rows behind (1: every batch writes them). */
  readonly batches: number
  /** With nothing submitted for this long (ms), a batch of its own writes the rows back. */
  readonly idleMs: number
}

/**
 * 16 batches: bench:ledger measured +4-8 % over 8 and about -5 % at 4. The price is the tail a balance read
 * of a non-customer account adds up (a customer's uses its statement indexes): ~2.7 ms at 10,000 rows,
 * ~22 ms at BEHIND_ROWS_MAX, which only a ledger under full load reaches.
 */
export const WRITE_BACK_DEFAULTS: WriteBackPolicy = { batches: 16, idleMs: 20 }
/** The journal rows and the accounts left behind at most: bounds a catch-up and what a balance read adds up. */
const BEHIND_ROWS_MAX = 100_000
const BEHIND_ACCOUNTS_MAX = 100_000

interface Submission {
  readonly events: readonly LedgerEvent[]
  readonly resolve: (results: EventResult[]) => void
  readonly reject: (error: unknown) => void
}

const RETRIES_MAX = 20
/**
 * Batches handed to the writer thread and not yet committed. While one is being written and synced the next
 * ones queue on the thread, which then commits them together (sqlite-ledger-worker.ts).
 */
const PIPELINE_DEPTH = 4

/** A batch validated on the main thread and handed to the writer thread. */
interface Flight {
  readonly batch: Submission[]
  readonly results: EventResult[][]
  readonly events: number
  readonly startedMs: number
  /** What this batch made of the transfers it created or resolved, until it commits. */
  readonly transfers: ReadonlyMap<string, StoredTransfer>
  readonly reply: Promise<{ ok: boolean }>
}

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
  readonly #writer: SqliteLedgerWriter | null
  readonly #unregister: (() => void) | null
  #generation = 0
  /** Writer thread only: the next batch must read the epoch with its rows (after a start or a failure). */
  #needSync = true
  /** Writer thread only: wakes the drain loop when work is submitted while it waits for a commit. */
  #wake: (() => void) | null = null
  readonly #writeBack: WriteBackPolicy
  /**
   * Writer thread only: the accounts whose rows are behind the journal (all of them are in the cache), and
   * the batches and journal rows since the rows were last made current.
   */
  readonly #behind = new Set<string>()
  #behindBatches = 0
  #behindRows = 0
  /**
   * Writer thread only: the expiry index lags with the account rows. What the batches since it was current
   * opened and left open, and what they resolved of the transfers the index has.
   */
  readonly #behindExpiriesOpened = new Map<string, Expiry>()
  #behindExpiriesClosed: Expiry[] = []

  constructor(store: SqlClient, options: BatchingLedgerOptions = {}) {
    this.#store = store
    this.#clock = options.clock ?? systemClock
    this.#batchEventsMax = options.batchEventsMax ?? 2_000
    this.#options = options
    this.#writeBack = { ...WRITE_BACK_DEFAULTS, ...options.accountsWriteBack }
    this.#cache = store.sharedWriters ? null : new LedgerCache()
    if (options.writerThread !== false && store instanceof SqliteClient && store.path !== null) {
      const writer = new SqliteLedgerWriter(store.path)
      this.#writer = writer
      this.#unregister = store.onClose(() => this.close())
    } else {
      this.#writer = null
      this.#unregister = null
    }
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

  /** The writer thread's event-loop utilisation so far (for benchmarks); null without a writer thread. */
  writerUtilization(): EventLoopUtilization | null {
    return this.#writer?.utilization() ?? null
  }

  /** CPU time (µs) of the writer thread, as of its last answer; null without a writer thread. */
  writerCpuUs(): number | null {
    return this.#writer === null ? null : this.#writer.cpuUs()
  }

  /** Stops taking work and waits for what was submitted to commit. */
  async close(): Promise<void> {
    this.#closed = true
    // A drain waiting to write the account rows back does it now.
    this.#wake?.()
    while (this.#draining || this.#queue.length > 0) await this.#idle
    this.#unregister?.()
    await this.#writer?.close()
  }

  #submit(events: LedgerEvent[]): Promise<EventResult[]> {
    if (this.#closed) return Promise.reject(new Error('ledger is closed'))
    if (events.length === 0) return Promise.resolve([])
    return new Promise<EventResult[]>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject })
      this.#wake?.()
      if (!this.#draining) {
        this.#draining = true
        // Wait one turn of the event loop so that everything submitted now joins the first batch.
        const drain = (): Promise<void> => (this.#writer === null ? this.#drain() : this.#drainPipelined(this.#writer))
        this.#idle = new Promise<void>((done) => setImmediate(() => void drain().finally(done)))
      }
    })
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) await this.#commitIsolating(this.#takeBatch())
    } finally {
      this.#draining = false
    }
  }

  #queuedEvents(): number {
    let events = 0
    for (const submission of this.#queue) events += submission.events.length
    return events
  }

  #takeBatch(eventsMax = this.#batchEventsMax): Submission[] {
    const max = Math.min(eventsMax, this.#batchEventsMax)
    let events = 0
    let take = 0
    while (take < this.#queue.length && (take === 0 || events + (this.#queue[take] as Submission).events.length <= max)) {
      events += (this.#queue[take] as Submission).events.length
      take += 1
    }
    return this.#queue.splice(0, take)
  }

  /**
   * The writer-thread path. Batch N+1 is read and validated here, on top of batch N's effects (kept in the
   * cache), while the thread writes and commits batch N. Results are handed out in order, each
   * only after its own batch's COMMIT. If a batch fails, the thread refuses every later one of the same
   * generation; all of them are then run again on the calling thread, one transaction each with failures
   * isolated, exactly as without the thread, and what was kept in memory is dropped.
   */
  async #drainPipelined(writer: SqliteLedgerWriter): Promise<void> {
    const flights: Flight[] = []
    try {
      for (;;) {
        if (this.#queue.length === 0 && flights.length === 0) {
          if (this.#behindBatches > 0) await this.#idleWriteBack(writer, flights)
          // Checked last with no await before the loop ends: work submitted meanwhile is never left behind.
          if (this.#queue.length === 0 && flights.length === 0) break
          continue
        }
        const cache = this.#cache as LedgerCache
        const mustWait = flights.length >= PIPELINE_DEPTH || (flights.length > 0 && (this.#needSync || cache.full()))
        if (this.#queue.length > 0 && !mustWait) {
          if (flights.length === 0 && cache.full()) {
            // The next batch catches the account rows up with the journal before it reads any (see #launch).
            cache.clear()
            this.#caughtUp()
            this.#needSync = true
          }
          // With the pipeline empty, half of a large queue goes first, so that the other half is validated
          // while it is written: from then on the two halves alternate instead of waiting for each other.
          const batch = this.#takeBatch(flights.length === 0 ? Math.ceil(this.#queuedEvents() / 2) : this.#batchEventsMax)
          try {
            flights.push(await this.#launch(writer, batch, flights))
          } catch {
            // Reading or validating failed before anything was sent: settle what is in flight, then let the
            // calling-thread path run this batch (it retries and isolates as usual).
            await this.#settle(flights.splice(0))
            this.#resetOptimistic()
            await this.#commitIsolating(batch)
          }
          continue
        }
        const oldest = flights[0] as Flight
        if (this.#queue.length === 0 && flights.length < PIPELINE_DEPTH) {
          // Room in the pipeline: whichever comes first, new work to validate or the oldest batch's commit.
          const submitted = new Promise<'submitted'>((resolve) => {
            this.#wake = () => resolve('submitted')
          })
          const first = await Promise.race([oldest.reply, submitted])
          this.#wake = null
          if (first === 'submitted') continue
        }
        const flight = flights.shift() as Flight
        const reply = await flight.reply
        if (reply.ok) {
          this.#landed(flight)
          continue
        }
        await this.#settle([flight, ...flights.splice(0)], true)
      }
    } finally {
      this.#draining = false
    }
  }

  /**
   * With nothing left to do and account rows behind: unless work is submitted first (or the ledger closes),
   * waits the idle delay, then launches a batch of no events that writes the rows back.
   */
  async #idleWriteBack(writer: SqliteLedgerWriter, flights: Flight[]): Promise<void> {
    if (!this.#closed) {
      const submitted = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.#writeBack.idleMs)
        // A process that ends meanwhile leaves the rows behind, which the next start replays.
        timer.unref()
        this.#wake = () => {
          clearTimeout(timer)
          resolve(true)
        }
      })
      this.#wake = null
      if (submitted && this.#queue.length > 0) return
    }
    try {
      flights.push(await this.#launch(writer, [], flights, true))
    } catch {
      // Nothing was sent; the rows stay behind (readers see through) until a batch catches them up.
      this.#resetOptimistic()
    }
  }

  /** Waits for flights in order; from the first that failed on, runs their batches again on this thread. */
  async #settle(flights: Flight[], firstFailed = false): Promise<void> {
    let failed: Flight[] = firstFailed ? flights : []
    if (!firstFailed) {
      for (let i = 0; i < flights.length; i += 1) {
        const flight = flights[i] as Flight
        if ((await flight.reply).ok) {
          this.#landed(flight)
          continue
        }
        failed = flights.slice(i)
        break
      }
    }
    if (failed.length === 0) return
    for (const flight of failed) await flight.reply // the later ones are refused at once
    this.#resetOptimistic()
    for (const flight of failed) await this.#commitIsolating(flight.batch)
    this.#resetOptimistic()
  }

  #resetOptimistic(): void {
    this.#cache?.clear()
    this.#caughtUp()
    this.#generation += 1
    this.#needSync = true
  }

  /** Reads what the batch needs and is not in memory, applies it, and hands its rows to the writer thread. */
  async #launch(writer: SqliteLedgerWriter, batch: Submission[], inFlight: readonly Flight[], writeBackNow = false): Promise<Flight> {
    const startedMs = performance.now()
    const cache = this.#cache as LedgerCache
    const submissions = batch.map((s) => s.events)
    // The engine takes these maps over (applyBatchAdopting): a second apply reads them again, fresh.
    let transfers = new Map<string, StoredTransfer>()
    let accounts = new Map<string, Account>()
    /** Transfers this batch read from the flights in front of it or from the database (the cache had the others). */
    const readElsewhere = new Set<string>()
    let setsLimits = false
    // A new transfer's own id is not looked up: it exists only when the transfer is a replay of one that is
    // neither open nor in flight, and then the unique index on ledger_transfer.id refuses the batch on the
    // writer thread, which runs it again on the calling thread, where every id is read and the replay is
    // answered `exists`. Replays are rare; a look-up per new id was a tenth of this thread's time.
    const read = async (db: SqlExecutor): Promise<void> => {
      const missing = new Set<string>()
      const missingAccounts = new Set<string>()
      const account = (id: string | undefined): void => {
        if (typeof id !== 'string' || accounts.has(id)) return
        const known = cache.account(id)
        if (known === undefined) missingAccounts.add(id)
        else accounts.set(id, known)
      }
      const transfer = (id: string | undefined, actedOn: boolean): void => {
        if (typeof id !== 'string') return
        // The cache first: during this walk `transfers` holds only what the cache had, and most ids are new.
        let known = cache.transfer(id)
        if (known === undefined) {
          if (!actedOn) return
          // A journal row that is not a pending transfer, made by a batch still in flight, is only there.
          known = madeInFlight(inFlight, id)
          if (known === undefined) {
            missing.add(id)
            return
          }
          readElsewhere.add(id)
        }
        if (transfers.has(id)) return
        transfers.set(id, known)
        account(known.debitAccountId)
        account(known.creditAccountId)
      }
      // Walks the events once, straight into the maps (no id sets first: that was a twentieth of this thread).
      for (const events of submissions) {
        for (const event of events) {
          if (event.kind === 'create_transfer') {
            transfer(event.input.id, false)
            transfer(event.input.pendingId, true)
            account(event.input.debitAccountId)
            account(event.input.creditAccountId)
          } else if (event.kind === 'expire_pending') transfer(event.pendingId, true)
          else if (event.kind === 'create_account') account(event.input.id)
          else {
            setsLimits = true
            account(event.input.accountId)
          }
        }
      }
      if (missing.size > 0) {
        for (const [id, found] of await repo.findTransfers(db, missing)) {
          readElsewhere.add(id)
          transfers.set(id, found)
          account(found.debitAccountId)
          account(found.creditAccountId)
        }
      }
      if (missingAccounts.size > 0) {
        for (const [id, found] of await repo.readAccounts(db, missingAccounts, false)) {
          accounts.set(id, found)
          cache.putAccount(found)
        }
      }
    }
    let syncEpoch: bigint | null = null
    if (this.#needSync) {
      // Rows and epoch from one transaction: the thread then checks that nobody wrote ledger rows since.
      // The account rows may lag the journal (they are written back every few batches, and a crash may have
      // left a tail): they are caught up first. From then on every account a batch touches is in the
      // cache until it is cleared, and every clear comes back here, so a miss reads a current row.
      await this.#store.transaction(async (tx) => {
        await catchUpAccounts(tx)
        const [row] = await tx.query<{ epoch: bigint }>('SELECT epoch FROM ledger_epoch WHERE id = 1')
        assert(row !== undefined, 'ledger_epoch has its row (migration 008)')
        syncEpoch = row.epoch
        await read(tx)
      })
    } else {
      await read(this.#store)
    }
    const apply = (): ReturnType<typeof applyBatch> =>
      applyBatchAdopting({ accounts, transfers }, submissions, {
        nowMs: this.#clock.nowMs(),
        ...(this.#options.schemeMaxMinor === undefined ? {} : { schemeMaxMinor: this.#options.schemeMaxMinor }),
      })
    let { results, writes, transfers: touched } = apply()
    // A transfer refused while its own id was unread might be a replay, which is answered `exists` ahead of
    // any refusal: read those ids now (refusals are the rare case) and, if one exists, apply again.
    const unsure = unreadRefusals(submissions, results, (id) => cache.transfer(id) !== undefined || readElsewhere.has(id))
    if (unsure.length > 0) {
      // A replay of a journal row that is not a pending transfer, while the batch that made it is in flight,
      // is found in that flight (only pending transfers enter the cache); otherwise on disk.
      const found = await repo.findTransfers(this.#store, unsure)
      for (const id of unsure) {
        const made = found.has(id) ? undefined : madeInFlight(inFlight, id)
        if (made !== undefined) found.set(id, made)
      }
      if (found.size > 0) {
        // The first apply worked in the maps: read them again (the cache and the rows are as they were).
        transfers = new Map()
        accounts = new Map()
        await read(this.#store)
        for (const [id, transfer] of found) transfers.set(id, transfer)
        ;({ results, writes, transfers: touched } = apply())
      }
    }
    // Limits are not in the journal, and a new account's row is written as it is after the batch: those
    // batches write every row back.
    const writeBack =
      writeBackNow ||
      setsLimits ||
      writes.accountsCreated.length > 0 ||
      this.#behindBatches + 1 >= this.#writeBack.batches ||
      this.#behindRows + writes.transfersCreated.length > BEHIND_ROWS_MAX ||
      this.#behind.size > BEHIND_ACCOUNTS_MAX
    // Packed before anything is kept: a value the thread could not store fails here, with nothing changed.
    const packed = packSqliteWrites(
      writeBack
        ? { ...writes, accountsUpdated: this.#withBehind(writes.accountsUpdated), ...this.#expiriesWithBehind(writes) }
        : { ...writes, accountsUpdated: [], expiriesOpened: [], expiriesClosed: [] },
    )
    // The batch's effects, for the batches validated after it while it is being written.
    for (const account of writes.accountsCreated) cache.putAccount(account)
    for (const account of writes.accountsUpdated) cache.putAccount(account)
    // Pending transfers, open or just resolved, for the batches validated next. The batch's other journal rows
    // (posted transfers, resolutions) are not kept: a replay of one is refused or caught by the unique index
    // on the journal's ids, and then found in its flight or on disk (below, and the calling-thread path).
    for (const transfer of touched.values()) if (transfer.type === 'pending') cache.putTransfer(transfer)
    if (writeBack) this.#caughtUp()
    else {
      for (const account of writes.accountsUpdated) this.#behind.add(account.id)
      this.#keepExpiries(writes)
      this.#behindBatches += 1
      this.#behindRows += writes.transfersCreated.length
    }
    const reply = writer.write(this.#generation, syncEpoch, writeBack, packed)
    this.#needSync = false
    const events = submissions.reduce((n, s) => n + s.length, 0)
    return { batch, results, events, startedMs, transfers: touched, reply }
  }

  /** The batch's account updates, then every other account left behind, in its state in the cache. */
  #withBehind(updated: readonly Account[]): Account[] {
    if (this.#behind.size === 0) return updated as Account[]
    const cache = this.#cache as LedgerCache
    const rows = [...updated]
    const inBatch = new Set(updated.map((account) => account.id))
    for (const id of this.#behind) {
      if (inBatch.has(id)) continue
      const account = cache.account(id)
      assert(account !== undefined, 'an account left behind is in the cache')
      rows.push(account)
    }
    return rows
  }

  /** A lagging batch's expiries, netted against those of the batches before it since the index was current. */
  #keepExpiries(writes: Pick<BatchWrites, 'expiriesOpened' | 'expiriesClosed'>): void {
    for (const expiry of writes.expiriesOpened) this.#behindExpiriesOpened.set(expiry.id, expiry)
    // A resolution follows its pending transfer: opened behind, it cancels out; else the index has a row.
    for (const expiry of writes.expiriesClosed) if (!this.#behindExpiriesOpened.delete(expiry.id)) this.#behindExpiriesClosed.push(expiry)
  }

  /** A write-back batch's expiries: its own and those of the batches left behind, netted. */
  #expiriesWithBehind(writes: Pick<BatchWrites, 'expiriesOpened' | 'expiriesClosed'>): Pick<BatchWrites, 'expiriesOpened' | 'expiriesClosed'> {
    if (this.#behindExpiriesOpened.size === 0 && this.#behindExpiriesClosed.length === 0) {
      return { expiriesOpened: writes.expiriesOpened, expiriesClosed: writes.expiriesClosed }
    }
    this.#keepExpiries(writes)
    return { expiriesOpened: [...this.#behindExpiriesOpened.values()], expiriesClosed: this.#behindExpiriesClosed }
  }

  /** The account rows are (or will be, once the batch just launched commits) current: nothing is behind. */
  #caughtUp(): void {
    this.#behind.clear()
    this.#behindBatches = 0
    this.#behindRows = 0
    this.#behindExpiriesOpened.clear()
    this.#behindExpiriesClosed = []
  }

  /**
   * A flight's batch committed: its callers get their results. Its pending transfers that are still open
   * stay in the cache; those it resolved leave it, unless a later batch in flight has touched them since.
   */
  #landed(flight: Flight): void {
    const cache = this.#cache as LedgerCache
    flight.transfers.forEach((transfer, id) => {
      if (transfer.type === 'pending' && transfer.pendingState !== 'pending') cache.dropTransfer(id, transfer)
    })
    if (flight.events > 0) this.#options.onBatch?.(flight.events, performance.now() - flight.startedMs)
    flight.batch.forEach((submission, i) => submission.resolve(flight.results[i] as EventResult[]))
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
    // This path writes whole account rows from what it reads: a tail the writer thread left is replayed first.
    if (tx.dialect === 'sqlite') await catchUpAccounts(tx)
    const ids = referencedIds(submissions)
    const transfers = cache === null ? new Map<string, StoredTransfer>() : cache.takeTransfers(ids.transferIds)
    for (const [id, transfer] of await repo.findTransfers(tx, [...ids.transferIds].filter((id) => !transfers.has(id)))) transfers.set(id, transfer)
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
    // Tells a writer thread of this database (another ledger, another process) that ledger rows changed.
    if (tx.dialect === 'sqlite') await tx.run('UPDATE ledger_epoch SET epoch = epoch + 1 WHERE id = 1')
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
      if (transfer.type === 'pending') cache.putTransfer({ ...transfer, pendingState: 'pending' })
      else if (transfer.pendingId !== null) cache.dropTransfer(transfer.pendingId)
    }
  }
}

/** A transfer as the newest batch in flight that created or resolved it left it; undefined if none did. */
function madeInFlight(inFlight: readonly Flight[], id: string): StoredTransfer | undefined {
  for (let i = inFlight.length - 1; i >= 0; i -= 1) {
    const made = (inFlight[i] as Flight).transfers.get(id)
    if (made !== undefined) return made
  }
  return undefined
}

/** Ids of new transfers that were refused although whether they already exist was not read. */
function unreadRefusals(submissions: readonly (readonly LedgerEvent[])[], results: readonly EventResult[][], wasRead: (id: string) => boolean): string[] {
  const ids: string[] = []
  submissions.forEach((events, i) => {
    events.forEach((event, j) => {
      if (event.kind !== 'create_transfer' || results[i]?.[j]?.status === 'created') return
      const id = event.input.id
      if (typeof id === 'string' && isLedgerId(id) && !wasRead(id)) ids.push(id)
    })
  })
  return ids
}

type Expiry = BatchWrites['expiriesOpened'][number]

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
 *
 * On the writer-thread path the transfers map also holds every pending transfer that a batch in flight
 * created or resolved, in its latest state, until that batch commits: one map, so that a new id (the common
 * case) is one miss, not one in the in-flight state and another among the open transfers.
 */
class LedgerCache {
  readonly #accounts = new Map<string, Account>()
  readonly #transfers = new Map<string, StoredTransfer>()
  #token: string | null = null

  validate(token: string | null): void {
    if (token === null || token !== this.#token || this.full()) this.clear()
    this.#token = token
  }

  clear(): void {
    this.#accounts.clear()
    this.#transfers.clear()
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

  account(id: string): Account | undefined {
    return this.#accounts.get(id)
  }

  transfer(id: string): StoredTransfer | undefined {
    return this.#transfers.get(id)
  }

  /** Past its bound, the cache is emptied where that is safe: before a batch, with nothing in flight. */
  full(): boolean {
    return this.#accounts.size >= CACHE_ENTRIES_MAX || this.#transfers.size >= CACHE_ENTRIES_MAX
  }

  takeTransfers(ids: Iterable<string>): Map<string, StoredTransfer> {
    const found = new Map<string, StoredTransfer>()
    for (const id of ids) {
      const transfer = this.#transfers.get(id)
      if (transfer !== undefined) found.set(id, transfer)
    }
    return found
  }

  putAccount(account: Account): void {
    this.#accounts.set(account.id, account)
  }

  putTransfer(transfer: StoredTransfer): void {
    this.#transfers.set(transfer.id, transfer)
  }

  /** Forgets a transfer; given `ifStill`, only while that is the state kept (no later batch replaced it). */
  dropTransfer(id: string, ifStill?: StoredTransfer): void {
    if (ifStill === undefined || this.#transfers.get(id) === ifStill) this.#transfers.delete(id)
  }
}
