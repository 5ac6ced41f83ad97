// SPDX-License-Identifier: Apache-2.0
/**
 * The switch's persistent callback outbox. Every request or callback the switch sends a participant is
 * first written by `enqueue(tx, …)` inside the transaction that makes the state change it reports, so the
 * two commit together and nothing is sent for a change that rolled back. Workers then claim due messages in
 * bounded batches, send them through the injected sender, and record each outcome:
 *
 *   2xx → DELIVERED · network error, timeout, 5xx, 429 → retry with backoff, then FAILED_UNREACHABLE and
 *   the onUnreachable hook (once) · any other status → FAILED.
 *
 * Guarantees, and their limits:
 * - Nothing enqueued is lost: a message stays in the table until it reaches a final state, so a new Outbox
 *   on the same store (after a restart, or on another node) delivers whatever was left.
 * - A message recorded DELIVERED is never sent again. Delivery is at least once only in one case: a worker
 *   that dies (or loses its database) between sending and recording. Its claim's lease then runs out and
 *   another worker sends the message again. FSPIOP receivers must accept duplicate callbacks anyway
 *   (reference §1.7).
 * - Per (destination, correlation), message N+1 is not started while message N is in flight or waiting for
 *   a retry. When N ends FAILED or FAILED_UNREACHABLE, N+1 goes ahead: the switch learns of N's failure
 *   through the hook (or metrics) and decides what follows. A message that only informs holds nothing back
 *   (a GET, or one enqueued with `informs: true`, such as an answer to a look-up): nothing at the receiver
 *   depends on its having arrived, so look-ups of one party id from many payers, and their answers, go out
 *   side by side, while such a message still waits for the messages before it that do change something.
 * - At most `perDestinationMax` attempts are in flight per destination and `inFlightMax` in all, per Outbox
 *   instance (N processes on one PostgreSQL database may have N times as many). A destination whose slots
 *   are full is left out of the next claims, so a participant that hangs or refuses connections only ever
 *   holds its own slots and never delays the others.
 * - The unreachable hook runs in a transaction that also marks the notice given, so whatever the hook
 *   writes with that transaction (typically a 1001 error callback, enqueued to the source) commits exactly
 *   once. A hook that throws rolls back and is tried again at the next poll.
 *
 * - Hand-off: once the worker runs, a message enqueued as the first open one of its (destination,
 *   correlation), with a free slot, is written already claimed (SENDING, leased to this instance) and
 *   handed to the sender right after its transaction commits, with no claim query or claim transaction; if
 *   the transaction rolls back it never existed and its slot is freed. Its lease covers it like any claim:
 *   if the process dies before the outcome is recorded, the message is sent again after a restart
 *   (reclaimOnStart) or once the lease runs out. Messages that cannot be handed over (a predecessor is
 *   still open, no slot is free, or the executor has no afterTransaction) are written PENDING and claimed
 *   by the worker's rounds, which query only when such a message may be due, and at least every poll.
 *
 * Times: retry times and leases are read from the injected Clock; the attempt timeout is real time, since
 * it bounds a real HTTP exchange. Nodes sharing a database need clocks in step to well within leaseMs.
 * Bodies are never logged or passed to metrics: they may carry party names.
 */
import { randomUUID } from 'node:crypto'
import { assert } from '../../core/assert.ts'
import { systemClock, type Clock } from '../../core/clock.ts'
import type { SqlClient, SqlExecutor } from '../../store/ports.ts'
import * as repo from '../../store/outbox/outbox-repo.ts'
import { deliveryTransition, type DeliveryState } from './delivery-state.ts'
import { checkMessageInput, messageId, type DeliveryRequest, type OutboxMessage, type OutboxMessageInput } from './message.ts'
import { checkRetryPolicy, decideAttempt, DEFAULT_RETRY_POLICY, type RetryPolicy, type SendResult } from './retry-policy.ts'

/**
 * Sends one attempt. It resolves with the participant's status or the reason there was none, and should not
 * throw (a throw counts as a network error). It should stop when `signal` aborts: the outbox aborts it at
 * attemptTimeoutMs and counts the attempt as timed out whether or not the sender stops.
 */
export type Sender = (request: DeliveryRequest, signal: AbortSignal) => Promise<SendResult>

/**
 * Called once per message that ended FAILED_UNREACHABLE, inside a transaction: write through `tx` only (on
 * SQLite, any other use of the store waits for this transaction and so never finishes). Whatever it writes
 * commits together with the mark that the notice was given.
 */
export type UnreachableHook = (message: OutboxMessage, tx: SqlExecutor) => Promise<void> | void

/** What metrics hear about one attempt. No URL (it may hold a party id) and no body. */
export interface DeliveryInfo {
  readonly id: string
  readonly destination: string
  readonly method: DeliveryRequest['method']
  readonly correlation: string
  /** 1 for the first attempt. */
  readonly attempt: number
  readonly status: number | null
  readonly error: 'timeout' | 'network' | null
  /** From enqueue to the end of this attempt, by the outbox's clock. */
  readonly ageMs: number
}

/** Plain callbacks for counters and histograms; each is optional, and one that throws is reported, not fatal. */
export interface OutboxMetrics {
  delivered?(info: DeliveryInfo): void
  retried?(info: DeliveryInfo, nextAttemptAtMs: number): void
  failed?(info: DeliveryInfo, reason: 'rejected' | 'unreachable'): void
  /** The real duration of every attempt's HTTP exchange, whatever its result. */
  attemptLatency?(info: DeliveryInfo, durationMs: number): void
}

export type OutboxActivity = 'claim' | 'send' | 'record' | 'notice' | 'metrics'

export interface OutboxOptions {
  readonly store: SqlClient
  readonly send: Sender
  readonly onUnreachable: UnreachableHook
  readonly clock?: Clock
  readonly retryPolicy?: RetryPolicy
  /**
   * Attempts in flight per destination, per instance. Default 64: a participant that answers in 20 ms can
   * then take 3,000 callbacks/s, and one that hangs holds only its own slots.
   */
  readonly perDestinationMax?: number
  /** Attempts in flight in all, per instance. Default 1,024. */
  readonly inFlightMax?: number
  /** Most messages one claim takes. Default 64. */
  readonly batchMax?: number
  /** Real time after which an attempt counts as timed out. Default 10 s. */
  readonly attemptTimeoutMs?: number
  /** How long a claim owns a message before another worker may take it over (clock time). Default 60 s. */
  readonly leaseMs?: number
  /** How often the worker looks for due messages when nothing wakes it sooner. Default 500 ms. */
  readonly pollIntervalMs?: number
  readonly metrics?: OutboxMetrics
  /**
   * Only for an outbox that is the sole worker on its store (the switch on its own SQLite file): at start,
   * take back every claim at once rather than waiting for leases. With other workers it would send twice.
   */
  readonly reclaimOnStart?: boolean
  /** Failures of the outbox's own work (the store, the hook, a metric). The worker carries on after each. */
  readonly onError?: (error: unknown, during: OutboxActivity) => void
  /** A draw from [0, 1) for the retry jitter. */
  readonly random?: () => number
}

interface QueuedOutcome {
  readonly outcome: repo.AttemptOutcome
  readonly resolve: (recorded: boolean) => void
}

/** Outcomes written per transaction: large enough to amortise the fsync, small enough to commit quickly. */
const RECORD_BATCH_MAX = 256
const RECORD_TRIES_MAX = 5
const NOTICE_BATCH_MAX = 64
const ERROR_DETAIL_MAX = 200
/** Candidates read per claim, as a multiple of the claim size: room for the per-destination limits. */
const CANDIDATE_FACTOR = 4
/** Correlations remembered as having a message waiting behind an open one, before the memory is dropped. */
const WAITING_KEYS_MAX = 10_000

function defaultOnError(error: unknown, during: OutboxActivity): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  process.emitWarning(`outbox ${during} failed: ${message}`, { code: 'KIVUKO_OUTBOX' })
}

export class Outbox {
  readonly #store: SqlClient
  readonly #send: Sender
  readonly #onUnreachable: UnreachableHook
  readonly #clock: Clock
  readonly #policy: RetryPolicy
  readonly #perDestinationMax: number
  readonly #inFlightMax: number
  readonly #batchMax: number
  readonly #attemptTimeoutMs: number
  readonly #leaseMs: number
  readonly #pollIntervalMs: number
  readonly #metrics: OutboxMetrics
  readonly #reclaimOnStart: boolean
  readonly #onError: (error: unknown, during: OutboxActivity) => void
  readonly #random: () => number

  readonly #inFlight = new Map<string, number>()
  #inFlightTotal = 0
  readonly #tasks = new Set<Promise<void>>()
  #outcomes: QueuedOutcome[] = []
  #flush: Promise<void> | null = null
  #noticeRun: Promise<void> | null = null
  #noticeAgain = false
  #roundTail: Promise<unknown> = Promise.resolve()
  #running = false
  /** Set once the worker runs and its leases are settled: enqueue may then hand messages straight over. */
  #handingOff = false
  #closed = false
  /** Real time (performance.now) of the last round that queried for due messages and owed notices. */
  #lastPollMs = Number.NEGATIVE_INFINITY
  /** A woken round should look for due messages (something this instance wrote PENDING may now be claimable). */
  #claimWanted = false
  /** Messages this instance wrote PENDING for want of a slot, not yet claimed by it (an estimate, never below 0). */
  #waitingForSlot = 0
  /** Per correlationKey: messages this instance wrote PENDING behind an open predecessor, not yet claimed by it. */
  readonly #waitingBehind = new Map<string, number>()
  /** Correlations whose next message may be claimable now (its predecessor here just finished): looked up by key. */
  readonly #nextOf = new Map<string, { readonly destination: string; readonly correlation: string }>()
  #loopDone: Promise<void> = Promise.resolve()
  #woken = false
  #waiter: (() => void) | null = null

  constructor(options: OutboxOptions) {
    this.#store = options.store
    this.#send = options.send
    this.#onUnreachable = options.onUnreachable
    this.#clock = options.clock ?? systemClock
    this.#policy = checkRetryPolicy(options.retryPolicy ?? DEFAULT_RETRY_POLICY)
    this.#perDestinationMax = options.perDestinationMax ?? 64
    this.#inFlightMax = options.inFlightMax ?? 1024
    this.#batchMax = options.batchMax ?? 64
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000
    this.#leaseMs = options.leaseMs ?? 60_000
    this.#pollIntervalMs = options.pollIntervalMs ?? 500
    this.#metrics = options.metrics ?? {}
    this.#reclaimOnStart = options.reclaimOnStart ?? false
    this.#onError = options.onError ?? defaultOnError
    this.#random = options.random ?? Math.random
    for (const [name, value] of Object.entries({
      perDestinationMax: this.#perDestinationMax,
      inFlightMax: this.#inFlightMax,
      batchMax: this.#batchMax,
      attemptTimeoutMs: this.#attemptTimeoutMs,
      leaseMs: this.#leaseMs,
      pollIntervalMs: this.#pollIntervalMs,
    })) {
      assert(Number.isSafeInteger(value) && value >= 1, `outbox ${name} is a whole number ≥ 1`)
    }
    // A lease shorter than an attempt would let a second worker send a message the first is still sending.
    assert(this.#leaseMs > this.#attemptTimeoutMs, 'outbox leaseMs is longer than attemptTimeoutMs')
  }

  /**
   * Writes a message inside the caller's transaction and returns its id. Nothing is sent before that
   * transaction commits. With the worker running it is handed to the sender right after the commit when it
   * can be (see the hand-off above); otherwise the worker claims it after the commit or at the next poll.
   */
  async enqueue(tx: SqlExecutor, input: OutboxMessageInput): Promise<string> {
    const [id] = await this.enqueueMany(tx, [input])
    assert(id !== undefined, 'one id per message')
    return id
  }

  /** Several messages in one statement per 64; they are delivered in the order given per correlation. */
  async enqueueMany(tx: SqlExecutor, inputs: readonly OutboxMessageInput[]): Promise<string[]> {
    for (const input of inputs) checkMessageInput(input)
    const createdAtMs = this.#clock.nowMs()
    const rows: repo.NewMessageRow[] = inputs.map((input) => ({
      id: input.id ?? messageId(createdAtMs),
      destination: input.destination,
      method: input.method,
      url: input.url,
      headers: input.headers,
      body: input.body,
      correlation: input.correlation,
      holdsBack: input.method !== 'GET' && input.informs !== true,
      createdAtMs,
    }))
    const afterTransaction = tx.afterTransaction?.bind(tx)
    if (!this.#handingOff || this.#closed || afterTransaction === undefined) {
      await repo.insertMessages(tx, rows)
      this.#waitingForSlot += rows.length
      // The claim this triggers reads only committed rows; on SQLite it queues behind the open transaction.
      setImmediate(() => this.#wantClaim())
      return rows.map((row) => row.id)
    }
    const open = await repo.openCorrelations(tx, [...new Map(rows.map((row) => [repo.correlationKey(row.destination, row.correlation), row])).values()])
    const claim = { token: randomUUID(), leaseUntilMs: createdAtMs + this.#leaseMs }
    const handed: OutboxMessage[] = []
    const behind: string[] = []
    let forSlot = 0
    const claimedRows = rows.map((row): repo.NewMessageRow => {
      const key = repo.correlationKey(row.destination, row.correlation)
      if (open.has(key)) {
        behind.push(key)
        return row
      }
      // Later messages of this correlation in the same call wait behind this one, unless it only informs.
      if (row.holdsBack) open.add(key)
      if (!this.#takeSlot(row.destination)) {
        forSlot += 1
        return row
      }
      handed.push({ ...row, state: 'SENDING', attempts: 1, dueAtMs: claim.leaseUntilMs, lastStatus: null, lastError: null, completedAtMs: null })
      return { ...row, claim }
    })
    try {
      await repo.insertMessages(tx, claimedRows)
    } catch (error) {
      for (const message of handed) this.#freeSlot(message.destination)
      throw error
    }
    this.#waitingForSlot += forSlot
    for (const key of behind) this.#waitingBehind.set(key, (this.#waitingBehind.get(key) ?? 0) + 1)
    const behindPairs = rows.filter((row) => behind.includes(repo.correlationKey(row.destination, row.correlation)))
    afterTransaction((committed) => {
      if (!committed || this.#closed) {
        // Rolled back: the messages never existed. Closed: they stay claimed and are sent again after a
        // restart or their lease, like any claim cut off by a stop.
        for (const message of handed) this.#freeSlot(message.destination)
        if (!committed) this.#forget(forSlot, behind)
        return
      }
      for (const message of handed) this.#startDelivery(message, claim.token)
      if (forSlot > 0) this.#wantClaim()
      // The predecessor may have finished between the check and this commit: look once more, by key.
      for (const row of behindPairs) this.#wantNext(row.destination, row.correlation)
    })
    return rows.map((row) => row.id)
  }

  /** Starts the worker. Delivery then runs until close(). */
  start(): void {
    assert(!this.#closed, 'a closed outbox cannot start again')
    if (this.#running) return
    this.#running = true
    // When this outbox is its store's only worker, claims left SENDING are from its own previous life: nobody
    // else is sending them, so they are taken back at once instead of after their lease.
    const leasesEnded = this.#reclaimOnStart ? this.#store.transaction((tx) => repo.endLeases(tx, this.#clock.nowMs())) : Promise.resolve(0)
    const begin = (): Promise<void> => {
      // Only now: ending leases must not take back a message handed over in this life.
      this.#handingOff = !this.#closed
      return this.#loop()
    }
    this.#loopDone = leasesEnded.then(begin, begin)
  }

  /** Makes the worker look for due messages now rather than at the next poll. */
  wake(): void {
    const waiter = this.#waiter
    if (waiter === null) {
      this.#woken = true
      return
    }
    this.#waiter = null
    waiter()
  }

  /**
   * One round of the worker's work: give owed unreachable notices, then claim due messages for the free
   * slots and start sending them (without waiting for the sends). Returns how many it claimed. The worker
   * calls it in a loop; tests call it directly with a manual clock, then `idle()`.
   */
  runOnce(): Promise<number> {
    return this.#chainRound(true)
  }

  #chainRound(poll: boolean): Promise<number> {
    const round = this.#roundTail.then(
      () => this.#round(poll),
      () => this.#round(poll),
    )
    this.#roundTail = round.catch(() => undefined)
    return round
  }

  /** Resolves when no attempt is in flight, every outcome is recorded and every owed notice handled. */
  async idle(): Promise<void> {
    while (this.#tasks.size > 0 || this.#flush !== null || this.#noticeRun !== null) {
      await Promise.all([...this.#tasks, this.#flush, this.#noticeRun])
    }
  }

  /** Stops claiming, lets the attempts in flight finish and be recorded, and stops the worker. The store stays open. */
  async close(): Promise<void> {
    this.#closed = true
    this.#handingOff = false
    this.#running = false
    this.wake()
    await this.#loopDone
    await this.#roundTail
    await this.idle()
  }

  /** The message as stored, or undefined. */
  find(id: string): Promise<OutboxMessage | undefined> {
    return repo.findMessage(this.#store, id)
  }

  /** How many messages are in each state: for the operator's dashboard and health checks. */
  countByState(): Promise<Record<DeliveryState, number>> {
    return repo.countByState(this.#store)
  }

  /** Deletes up to `limit` messages that finished before `beforeMs`; returns how many. */
  purgeFinished(beforeMs: number, limit = 1_000): Promise<number> {
    return repo.purgeFinished(this.#store, beforeMs, limit)
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      let claimed = 0
      // A poll (owed notices, retries come due, leases run out, other instances' leftovers) at least every
      // pollIntervalMs; in between, a wake queries only when a message this instance wrote PENDING may be claimable.
      const poll = performance.now() - this.#lastPollMs >= this.#pollIntervalMs
      if (poll || this.#claimWanted || this.#nextOf.size > 0) {
        try {
          claimed = await this.#chainRound(poll)
        } catch (error) {
          this.#report(error, 'claim')
        }
      }
      if (!this.#running) break
      // A full claim suggests more is due already; otherwise wait for a wake (a new message, a freed slot) or the poll.
      if (claimed < this.#batchMax) await this.#sleep(Math.max(1, Math.ceil(this.#lastPollMs + this.#pollIntervalMs - performance.now())))
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = null
        resolve()
      }, ms)
      this.#waiter = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /**
   * `poll`: also give owed notices, and count as the periodic look. Otherwise only what was asked for: the
   * next messages of correlations whose predecessor finished (cheap look-ups by key), and the query for due
   * messages only when something may wait for a slot.
   */
  async #round(poll: boolean): Promise<number> {
    if (this.#closed) return 0
    const next = this.#nextOf.size > 0 ? await this.#claimNext() : 0
    if (!poll && !this.#claimWanted) return next
    this.#claimWanted = false
    if (poll) {
      this.#lastPollMs = performance.now()
      await this.#giveNotices()
    }
    const free = this.#inFlightMax - this.#inFlightTotal
    if (free <= 0) {
      // Could not look: the next freed slot should.
      this.#waitingForSlot = Math.max(1, this.#waitingForSlot)
      return 0
    }
    const want = Math.min(this.#batchMax, free)
    const busy = [...this.#inFlight].filter(([, count]) => count >= this.#perDestinationMax).map(([destination]) => destination)
    const nowMs = this.#clock.nowMs()
    const candidates = await repo.dueCandidates(this.#store, {
      nowMs,
      excludeDestinations: busy,
      perDestinationMax: this.#perDestinationMax,
      limit: want * CANDIDATE_FACTOR,
    })
    const room = new Map<string, number>()
    const seqs: bigint[] = []
    for (const candidate of candidates) {
      if (seqs.length >= want) break
      const left = room.get(candidate.destination) ?? this.#perDestinationMax - (this.#inFlight.get(candidate.destination) ?? 0)
      if (left <= 0) continue
      room.set(candidate.destination, left - 1)
      seqs.push(candidate.seq)
    }
    // Due messages left for want of a slot: a freed slot should look again. Everything due seen and taken
    // (no destination left out as busy, no candidate cut off by the limit): nothing waits for a slot any more.
    if (seqs.length < candidates.length) this.#waitingForSlot = Math.max(1, this.#waitingForSlot)
    else if (busy.length === 0 && candidates.length < want * CANDIDATE_FACTOR) this.#waitingForSlot = 0
    // Nothing is due and nothing of this instance is in flight whose end could unblock a message: whatever
    // still waits behind an open predecessor waits for one of another instance, or for a retry, which the
    // polls pick up. (Also bounds the map when other instances claim what this one wrote.)
    if ((candidates.length === 0 && this.#inFlightTotal === 0) || this.#waitingBehind.size > WAITING_KEYS_MAX) this.#waitingBehind.clear()
    return next + (await this.#claimSeqs(seqs, nowMs))
  }

  /** Claims the first open message of each correlation in #nextOf, if it is due and may go, slots permitting. */
  async #claimNext(): Promise<number> {
    const pairs = [...this.#nextOf.values()]
    this.#nextOf.clear()
    const nowMs = this.#clock.nowMs()
    const heads = await repo.nextPending(this.#store, pairs, nowMs)
    const room = new Map<string, number>()
    const seqs: bigint[] = []
    for (const head of heads) {
      const left = room.get(head.destination) ?? this.#perDestinationMax - (this.#inFlight.get(head.destination) ?? 0)
      if (left <= 0 || this.#inFlightTotal + seqs.length >= this.#inFlightMax) {
        this.#waitingForSlot = Math.max(1, this.#waitingForSlot)
        continue
      }
      room.set(head.destination, left - 1)
      seqs.push(head.seq)
    }
    return this.#claimSeqs(seqs, nowMs)
  }

  /** Claims these candidates (re-checked in the claim) and starts sending what it got. */
  async #claimSeqs(seqs: readonly bigint[], nowMs: number): Promise<number> {
    if (seqs.length === 0) return 0
    const token = randomUUID()
    // In a transaction, so that on SQLite the claim shares a group commit's fsync instead of paying its own.
    const claimed = await this.#store.transaction((tx) => repo.claim(tx, { seqs, token, nowMs, leaseUntilMs: nowMs + this.#leaseMs }))
    for (const message of claimed) {
      const key = repo.correlationKey(message.destination, message.correlation)
      const behind = this.#waitingBehind.get(key)
      if (behind !== undefined) {
        if (behind > 1) this.#waitingBehind.set(key, behind - 1)
        else this.#waitingBehind.delete(key)
      } else if (this.#waitingForSlot > 0) this.#waitingForSlot -= 1
      const taken = this.#takeSlot(message.destination, true)
      assert(taken, 'claims never exceed the free slots')
      this.#startDelivery(message, token)
    }
    assert(this.#inFlightTotal <= this.#inFlightMax, 'claims never exceed the free slots')
    return claimed.length
  }

  /** Takes a slot for `destination` if one is free (or unconditionally when `force`); returns whether it did. */
  #takeSlot(destination: string, force = false): boolean {
    const count = this.#inFlight.get(destination) ?? 0
    if (!force && (count >= this.#perDestinationMax || this.#inFlightTotal >= this.#inFlightMax)) return false
    this.#inFlight.set(destination, count + 1)
    this.#inFlightTotal += 1
    return true
  }

  #freeSlot(destination: string): void {
    const count = (this.#inFlight.get(destination) ?? 0) - 1
    if (count > 0) this.#inFlight.set(destination, count)
    else this.#inFlight.delete(destination)
    this.#inFlightTotal -= 1
    if (this.#waitingForSlot > 0) this.#wantClaim()
  }

  /** Undoes the bookkeeping of messages written PENDING by a transaction that rolled back. */
  #forget(forSlot: number, behind: readonly string[]): void {
    this.#waitingForSlot = Math.max(0, this.#waitingForSlot - forSlot)
    for (const key of behind) {
      const count = (this.#waitingBehind.get(key) ?? 0) - 1
      if (count > 0) this.#waitingBehind.set(key, count)
      else this.#waitingBehind.delete(key)
    }
  }

  /** Asks the worker to claim the next message of this correlation now, if it may go. */
  #wantNext(destination: string, correlation: string): void {
    this.#nextOf.set(repo.correlationKey(destination, correlation), { destination, correlation })
    this.wake()
  }

  /** Asks the worker for a claim round now. */
  #wantClaim(): void {
    this.#claimWanted = true
    this.wake()
  }

  /** Sends a message this instance holds a slot and a claim for. */
  #startDelivery(message: OutboxMessage, token: string): void {
    const task = this.#deliver(message, token)
    this.#tasks.add(task)
    void task.then(() => this.#tasks.delete(task))
  }

  /** One attempt, start to recorded outcome. Never rejects. */
  async #deliver(message: OutboxMessage, token: string): Promise<void> {
    let unreachable = false
    try {
      const request: DeliveryRequest = {
        id: message.id,
        destination: message.destination,
        method: message.method,
        url: message.url,
        headers: message.headers,
        body: message.body,
        correlation: message.correlation,
        attempt: message.attempts,
      }
      const startedMs = performance.now()
      const result = await this.#attempt(request)
      const durationMs = performance.now() - startedMs
      const nowMs = this.#clock.nowMs()
      const decision = decideAttempt(this.#policy, result, { attempts: message.attempts, createdAtMs: message.createdAtMs, nowMs, random: this.#random() })
      const to = deliveryTransition('SENDING', decision.event)
      const status = 'status' in result ? result.status : null
      const error = 'error' in result ? result.error : null
      const finished = to !== 'PENDING'
      const recorded = await this.#record({
        id: message.id,
        token,
        event: decision.event,
        to,
        dueAtMs: decision.event === 'retry' ? decision.nextAttemptAtMs : nowMs,
        lastStatus: status,
        lastError: 'error' in result ? (result.detail === undefined ? result.error : `${result.error}: ${result.detail}`).slice(0, ERROR_DETAIL_MAX) : null,
        completedAtMs: finished ? nowMs : null,
      })
      const info: DeliveryInfo = {
        id: message.id,
        destination: message.destination,
        method: message.method,
        correlation: message.correlation,
        attempt: message.attempts,
        status,
        error,
        ageMs: nowMs - message.createdAtMs,
      }
      this.#metric(() => this.#metrics.attemptLatency?.(info, durationMs))
      // Not recorded: the lease ran out and another worker took the message over; its outcome is the one that counts.
      if (!recorded) return
      if (decision.event === 'accept') this.#metric(() => this.#metrics.delivered?.(info))
      else if (decision.event === 'retry') this.#metric(() => this.#metrics.retried?.(info, decision.nextAttemptAtMs))
      else if (decision.event === 'reject') this.#metric(() => this.#metrics.failed?.(info, 'rejected'))
      else this.#metric(() => this.#metrics.failed?.(info, 'unreachable'))
      unreachable = decision.event === 'exhaust'
    } catch (error) {
      this.#report(error, 'record')
    } finally {
      this.#freeSlot(message.destination)
      // A message written behind this one may be next in its correlation now.
      if (this.#waitingBehind.has(repo.correlationKey(message.destination, message.correlation))) this.#wantNext(message.destination, message.correlation)
    }
    if (unreachable) await this.#giveNotices()
  }

  /** The sender's result, or a timeout once attemptTimeoutMs has passed, whichever comes first. */
  async #attempt(request: DeliveryRequest): Promise<SendResult> {
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<SendResult>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new DOMException('outbox attempt timed out', 'TimeoutError'))
        resolve({ error: 'timeout' })
      }, this.#attemptTimeoutMs)
    })
    const sent = this.#send(request, controller.signal).then(
      (result) => result,
      (error: unknown): SendResult => {
        this.#report(error, 'send')
        return { error: 'network', detail: 'sender failed' }
      },
    )
    try {
      return await Promise.race([sent, timedOut])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Queues an outcome for the next group commit; resolves with whether it was recorded. */
  #record(outcome: repo.AttemptOutcome): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.#outcomes.push({ outcome, resolve })
      // One turn of the event loop lets the outcomes of attempts that ended together share a transaction.
      this.#flush ??= new Promise<void>((done) => setImmediate(() => void this.#flushOutcomes().finally(done)))
    })
  }

  async #flushOutcomes(): Promise<void> {
    try {
      while (this.#outcomes.length > 0) {
        const batch = this.#outcomes.splice(0, RECORD_BATCH_MAX)
        let recorded = new Set<string>()
        for (let tries = 1; ; tries += 1) {
          try {
            recorded = await this.#store.transaction((tx) =>
              repo.recordOutcomes(
                tx,
                batch.map((queued) => queued.outcome),
              ),
            )
            break
          } catch (error) {
            if (tries < RECORD_TRIES_MAX && this.#store.isRetryable(error)) continue
            // The messages stay SENDING; when their lease runs out a worker sends them again (at least once).
            this.#report(error, 'record')
            break
          }
        }
        for (const queued of batch) queued.resolve(recorded.has(queued.outcome.id))
      }
    } finally {
      this.#flush = null
    }
  }

  /** Runs the unreachable hook for every owed notice; one run at a time, re-run when asked during one. */
  #giveNotices(): Promise<void> {
    if (this.#noticeRun !== null) {
      this.#noticeAgain = true
      return this.#noticeRun
    }
    const run = (async () => {
      try {
        do {
          this.#noticeAgain = false
          await this.#giveNoticesOnce()
        } while (this.#noticeAgain)
      } finally {
        this.#noticeRun = null
      }
    })()
    this.#noticeRun = run
    return run
  }

  async #giveNoticesOnce(): Promise<void> {
    let ids: string[]
    try {
      ids = await repo.owedNotices(this.#store, NOTICE_BATCH_MAX)
    } catch (error) {
      this.#report(error, 'notice')
      return
    }
    for (const id of ids) {
      try {
        await this.#store.transaction(async (tx) => {
          const message = await repo.takeOwedNotice(tx, id)
          // Another worker is giving it, or has given it.
          if (message === undefined) return
          await this.#onUnreachable(message, tx)
          const marked = await repo.markNoticed(tx, id, this.#clock.nowMs())
          assert(marked, 'a notice taken under lock is still owed')
        })
      } catch (error) {
        // Rolled back: the hook's writes are undone and the notice stays owed for the next poll.
        this.#report(error, 'notice')
      }
    }
  }

  #metric(call: () => void): void {
    try {
      call()
    } catch (error) {
      this.#report(error, 'metrics')
    }
  }

  #report(error: unknown, during: OutboxActivity): void {
    try {
      this.#onError(error, during)
    } catch {
      // An error handler that fails has nobody left to tell; the worker must carry on regardless.
    }
  }
}
