// SPDX-License-Identifier: Apache-2.0
/**
 * The outbox's table in the portable SQL subset, one set of statements for SQLite and PostgreSQL. The only
 * dialect difference is the claim: on PostgreSQL several Kivuko processes claim from the same table, so the
 * rows are locked with FOR UPDATE SKIP LOCKED and each process takes different ones without waiting; SQLite
 * has a single writer, and its serial connection makes the same statement safe without a lock.
 *
 * Every state change is a compare-and-set whose expected states come from the delivery transition table, so
 * the database cannot be moved along an edge the table does not have.
 */
import { OPEN_STATES, isDeliveryState, statesAllowing, type DeliveryEvent, type DeliveryState } from '../../switch/outbox/delivery-state.ts'
import { OUTBOX_METHODS, type OutboxMessage } from '../../switch/outbox/message.ts'
import type { HttpMethod } from '../../fspiop/index.ts'
import { StoreError, type Row, type SqlExecutor, type SqlValue } from '../ports.ts'

/** Rows per multi-row statement; smaller parts use powers of two, so few distinct statements are cached. */
const ROWS_PER_STATEMENT_MAX = 64

const MESSAGE_COLUMNS =
  'seq, id, destination, method, url, headers, body, correlation, state, attempts, created_at_ms, due_at_ms, last_status, last_error, completed_at_ms'

interface MessageRow extends Row {
  seq: bigint
  id: string
  destination: string
  method: string
  url: string
  headers: string
  body: string | null
  correlation: string
  state: string
  attempts: bigint
  created_at_ms: bigint
  due_at_ms: bigint
  last_status: bigint | null
  last_error: string | null
  completed_at_ms: bigint | null
}

/** State names as SQL literals. They are constants of the transition table, never input. */
function literals(states: readonly DeliveryState[]): string {
  return states.map((state) => `'${state}'`).join(', ')
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ')
}

const OPEN = literals(OPEN_STATES)
const CLAIMABLE = literals([...new Set([...statesAllowing('claim'), ...statesAllowing('reclaim')])])

/**
 * `m` may go now in its (destination, correlation): nothing enqueued before it that holds back is still open.
 * A message that only informs (a GET, an answer to a look-up: holds_back = 0) holds nothing back, so many
 * look-ups of one party id, and their answers, go out side by side; it still waits for the messages before
 * it that do hold back, so it never overtakes them.
 */
const IS_HEAD = `NOT EXISTS (SELECT 1 FROM outbox_message e
                   WHERE e.destination = m.destination AND e.correlation = m.correlation
                     AND e.seq < m.seq AND e.state IN (${OPEN}) AND e.holds_back = 1)`

function toMessage(row: MessageRow): OutboxMessage {
  if (!isDeliveryState(row.state)) throw new StoreError(`outbox_message ${row.id} has an unknown state ${row.state}`)
  if (!OUTBOX_METHODS.includes(row.method as HttpMethod)) throw new StoreError(`outbox_message ${row.id} has an unknown method ${row.method}`)
  return {
    id: row.id,
    destination: row.destination,
    method: row.method as HttpMethod,
    url: row.url,
    headers: JSON.parse(row.headers) as Record<string, string>,
    body: row.body,
    correlation: row.correlation,
    state: row.state,
    attempts: Number(row.attempts),
    createdAtMs: Number(row.created_at_ms),
    dueAtMs: Number(row.due_at_ms),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: row.last_error,
    completedAtMs: row.completed_at_ms === null ? null : Number(row.completed_at_ms),
  }
}

export interface NewMessageRow {
  readonly id: string
  readonly destination: string
  readonly method: HttpMethod
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | null
  readonly correlation: string
  /**
   * Whether later messages of its (destination, correlation) wait until it has finished: true for messages
   * that change something at the receiver, false for those that only inform (a GET, an answer to a look-up).
   */
  readonly holdsBack: boolean
  readonly createdAtMs: number
  /**
   * Written already claimed (SENDING, first attempt counted, owned by `token` until `leaseUntilMs`): the
   * caller hands it straight to its sender once the transaction commits. Absent: PENDING, due at once.
   */
  readonly claim?: { readonly token: string; readonly leaseUntilMs: number } | undefined
}

/** Splits n rows into full chunks, then powers of two, so any count uses a handful of cached statements. */
function* ladder<T>(rows: readonly T[]): Generator<T[]> {
  let start = 0
  while (start < rows.length) {
    let size = ROWS_PER_STATEMENT_MAX
    while (size > rows.length - start) size >>= 1
    yield rows.slice(start, start + size)
    start += size
  }
}

/**
 * Writes new messages in the given order (which becomes their delivery order): PENDING and due at once, or
 * already claimed when the row says so. A claimed row must be the first open message of its (destination,
 * correlation): see `openCorrelations`.
 */
export async function insertMessages(tx: SqlExecutor, messages: readonly NewMessageRow[]): Promise<void> {
  const tuple = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
  for (const part of ladder(messages)) {
    const sql = `INSERT INTO outbox_message (id, destination, method, url, headers, body, correlation, holds_back, state, attempts, claim_token, created_at_ms, due_at_ms)
      VALUES ${Array.from({ length: part.length }, () => tuple).join(', ')}`
    const params = part.flatMap((m): SqlValue[] => [
      m.id,
      m.destination,
      m.method,
      m.url,
      JSON.stringify(m.headers),
      m.body,
      m.correlation,
      m.holdsBack ? 1n : 0n,
      m.claim === undefined ? 'PENDING' : 'SENDING',
      m.claim === undefined ? 0 : 1,
      m.claim === undefined ? null : m.claim.token,
      BigInt(m.createdAtMs),
      BigInt(m.claim === undefined ? m.createdAtMs : m.claim.leaseUntilMs),
    ])
    await tx.run(sql, params)
  }
}

/** A (destination, correlation) pair as one string: the unit of delivery order. */
export function correlationKey(destination: string, correlation: string): string {
  return `${destination}\u0000${correlation}`
}

/**
 * Which of the given (destination, correlation) pairs already have an open message that holds back (PENDING
 * or SENDING, holds_back: see IS_HEAD), as correlationKey strings: a new message of such a pair must wait. Read in the caller's transaction,
 * so it sees the messages that transaction wrote. On PostgreSQL a concurrent transaction's uncommitted
 * message is not seen; the switch's own writes for one transfer are serialised by the transfer's row lock.
 */
export async function openCorrelations(tx: SqlExecutor, pairs: readonly { readonly destination: string; readonly correlation: string }[]): Promise<Set<string>> {
  const open = new Set<string>()
  if (pairs.length === 0) return open
  if (tx.dialect === 'sqlite') {
    // In process, one cached statement per pair, each a probe of the open-queue index.
    const rows = await tx.queryMany<{ destination: string; correlation: string }>(
      `SELECT destination, correlation FROM outbox_message WHERE destination = ? AND correlation = ? AND state IN (${OPEN}) AND holds_back = 1 LIMIT 1`,
      pairs.map((p) => [p.destination, p.correlation]),
    )
    for (const row of rows) open.add(correlationKey(row.destination, row.correlation))
    return open
  }
  for (const part of ladder(pairs)) {
    const rows = await tx.query<{ destination: string; correlation: string }>(
      `SELECT DISTINCT destination, correlation FROM outbox_message
        WHERE state IN (${OPEN}) AND holds_back = 1 AND (destination, correlation) IN (VALUES ${Array.from({ length: part.length }, () => '(CAST(? AS TEXT), CAST(? AS TEXT))').join(', ')})`,
      part.flatMap((p) => [p.destination, p.correlation]),
    )
    for (const row of rows) open.add(correlationKey(row.destination, row.correlation))
  }
  return open
}

export interface Candidate {
  readonly seq: bigint
  readonly destination: string
}

export interface CandidateQuery {
  readonly nowMs: number
  /** Destinations this worker cannot send to now (all its slots busy): their messages are not wanted. */
  readonly excludeDestinations: readonly string[]
  /** At most this many candidates per destination, so one destination's backlog cannot crowd out the rest. */
  readonly perDestinationMax: number
  readonly limit: number
}

/**
 * Messages a worker may claim now: open, due (a retry whose time has come, or a claim whose lease ran out),
 * first in their (destination, correlation), at most perDestinationMax per destination, earliest due first.
 * Read without locks: the claim re-checks all of it.
 */
export async function dueCandidates(ex: SqlExecutor, query: CandidateQuery): Promise<Candidate[]> {
  const exclude = query.excludeDestinations.length === 0 ? '' : `AND m.destination NOT IN (${placeholders(query.excludeDestinations.length)})`
  const sql = `SELECT c.seq, c.destination FROM (
      SELECT m.seq, m.destination, m.due_at_ms,
             ROW_NUMBER() OVER (PARTITION BY m.destination ORDER BY m.due_at_ms, m.seq) AS destination_rank
        FROM outbox_message m
       WHERE m.state IN (${CLAIMABLE}) AND m.due_at_ms <= ? ${exclude}
         AND ${IS_HEAD}
    ) c
    WHERE c.destination_rank <= ?
    ORDER BY c.due_at_ms, c.seq
    LIMIT ?`
  return ex.query<{ seq: bigint; destination: string }>(sql, [BigInt(query.nowMs), ...query.excludeDestinations, query.perDestinationMax, query.limit])
}

/**
 * The first PENDING message of each given (destination, correlation), if it is due: what may go next once
 * its predecessor has finished. The claim re-checks that it may (IS_HEAD). One index probe per pair.
 */
export async function nextPending(ex: SqlExecutor, pairs: readonly { readonly destination: string; readonly correlation: string }[], nowMs: number): Promise<Candidate[]> {
  if (pairs.length === 0) return []
  // `state IN (OPEN)` as written in the open-queue index's own WHERE, so that the planner may use it.
  return ex.queryMany<{ seq: bigint; destination: string }>(
    `SELECT seq, destination FROM outbox_message
      WHERE destination = ? AND correlation = ? AND state IN (${OPEN}) AND state = 'PENDING' AND due_at_ms <= ?
      ORDER BY seq LIMIT 1`,
    pairs.map((p) => [p.destination, p.correlation, BigInt(nowMs)]),
  )
}

export interface ClaimRequest {
  readonly seqs: readonly bigint[]
  /** Names this claim: only it may record the outcome of the attempt it starts. */
  readonly token: string
  readonly nowMs: number
  readonly leaseUntilMs: number
}

/**
 * Moves the given candidates that are still claimable to SENDING, counts the attempt, and returns them in
 * enqueue order. On PostgreSQL rows another process holds are skipped rather than waited for; a row another
 * process claimed meanwhile fails the re-check and is not returned.
 */
export async function claim(ex: SqlExecutor, request: ClaimRequest): Promise<OutboxMessage[]> {
  if (request.seqs.length === 0) return []
  const lock = ex.dialect === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : ''
  // The list is padded to a power of two with its last seq (a repeat in IN changes nothing): a few statement
  // texts, each compiled once and kept, instead of one per list length, which churned the statement cache.
  const seqs = [...request.seqs]
  let width = 1
  while (width < seqs.length) width *= 2
  while (seqs.length < width) seqs.push(seqs[seqs.length - 1] as bigint)
  const sql = `UPDATE outbox_message SET state = 'SENDING', attempts = attempts + 1, claim_token = ?, due_at_ms = ?
     WHERE seq IN (SELECT m.seq FROM outbox_message m
                    WHERE m.seq IN (${placeholders(width)}) AND m.state IN (${CLAIMABLE}) AND m.due_at_ms <= ?
                      AND ${IS_HEAD}
                    ${lock})
    RETURNING ${MESSAGE_COLUMNS}`
  const rows = await ex.query<MessageRow>(sql, [request.token, BigInt(request.leaseUntilMs), ...seqs, BigInt(request.nowMs)])
  rows.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
  return rows.map(toMessage)
}

export interface AttemptOutcome {
  readonly id: string
  /** The token of the claim that made the attempt. */
  readonly token: string
  readonly event: Extract<DeliveryEvent, 'accept' | 'retry' | 'reject' | 'exhaust'>
  readonly to: DeliveryState
  /** When a retry may start; for a finished message, when it finished. */
  readonly dueAtMs: number
  readonly lastStatus: number | null
  readonly lastError: string | null
  readonly completedAtMs: number | null
}

function outcomeValues(o: AttemptOutcome): SqlValue[] {
  return [o.to, BigInt(o.dueAtMs), o.lastStatus === null ? null : BigInt(o.lastStatus), o.lastError, o.completedAtMs === null ? null : BigInt(o.completedAtMs), o.id, o.token]
}

const OUTCOME_TUPLE = '(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT))'

/**
 * Records attempt outcomes, each only if its claim still owns the message (the lease may have run out and
 * another worker taken over: then that worker's outcome is the one that counts). Returns the ids recorded.
 */
export async function recordOutcomes(tx: SqlExecutor, outcomes: readonly AttemptOutcome[]): Promise<Set<string>> {
  const recorded = new Set<string>()
  for (const [event, group] of Map.groupBy(outcomes, (outcome) => outcome.event)) {
    const from = literals(statesAllowing(event))
    if (tx.dialect === 'sqlite') {
      // In process, one cached statement per row by its unique id is the cheap way.
      const rows = await tx.queryMany<{ id: string }>(
        `UPDATE outbox_message SET state = ?, due_at_ms = ?, claim_token = NULL, last_status = ?, last_error = ?, completed_at_ms = ?
          WHERE id = ? AND claim_token = ? AND state IN (${from})
         RETURNING id`,
        group.map(outcomeValues),
      )
      for (const row of rows) recorded.add(row.id)
      continue
    }
    // On PostgreSQL each statement is a round trip: one multi-row update per chunk.
    for (const part of ladder(group)) {
      const rows = await tx.query<{ id: string }>(
        `UPDATE outbox_message SET state = v.column1, due_at_ms = v.column2, claim_token = NULL, last_status = v.column3,
                last_error = v.column4, completed_at_ms = v.column5
           FROM (VALUES ${Array.from({ length: part.length }, () => OUTCOME_TUPLE).join(', ')}) AS v
          WHERE outbox_message.id = v.column6 AND outbox_message.claim_token = v.column7 AND outbox_message.state IN (${from})
         RETURNING outbox_message.id`,
        part.flatMap(outcomeValues),
      )
      for (const row of rows) recorded.add(row.id)
    }
  }
  return recorded
}

const NOTICE_OWED = "state = 'FAILED_UNREACHABLE' AND unreachable_noticed_at_ms IS NULL"

/** FAILED_UNREACHABLE messages whose unreachable hook has not run yet, oldest first. */
export async function owedNotices(ex: SqlExecutor, limit: number): Promise<string[]> {
  const rows = await ex.query<{ id: string }>(`SELECT id FROM outbox_message WHERE ${NOTICE_OWED} ORDER BY seq LIMIT ?`, [limit])
  return rows.map((row) => row.id)
}

/**
 * The message if its notice is still owed, locked for this transaction on PostgreSQL (skipped when another
 * process is handling it), so the hook's work and the mark commit together, exactly once.
 */
export async function takeOwedNotice(tx: SqlExecutor, id: string): Promise<OutboxMessage | undefined> {
  const lock = tx.dialect === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : ''
  const [row] = await tx.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM outbox_message WHERE id = ? AND ${NOTICE_OWED} ${lock}`, [id])
  return row === undefined ? undefined : toMessage(row)
}

export async function markNoticed(tx: SqlExecutor, id: string, nowMs: number): Promise<boolean> {
  return (await tx.run(`UPDATE outbox_message SET unreachable_noticed_at_ms = ? WHERE id = ? AND ${NOTICE_OWED}`, [BigInt(nowMs), id])) === 1
}

export async function findMessage(ex: SqlExecutor, id: string): Promise<OutboxMessage | undefined> {
  const [row] = await ex.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM outbox_message WHERE id = ?`, [id])
  return row === undefined ? undefined : toMessage(row)
}

export async function countByState(ex: SqlExecutor): Promise<Record<DeliveryState, number>> {
  const counts: Record<DeliveryState, number> = { PENDING: 0, SENDING: 0, DELIVERED: 0, FAILED: 0, FAILED_UNREACHABLE: 0 }
  for (const row of await ex.query<{ state: string; n: bigint }>('SELECT state, COUNT(*) AS n FROM outbox_message GROUP BY state')) {
    if (isDeliveryState(row.state)) counts[row.state] = Number(row.n)
  }
  return counts
}

/**
 * Deletes up to `limit` finished messages that finished before `beforeMs` (an unreachable one only once its
 * notice was given); returns how many. Finished messages no longer take part in ordering, so this is safe
 * at any time, and it keeps bodies (which may carry party names) no longer than the scheme needs them.
 */
export async function purgeFinished(ex: SqlExecutor, beforeMs: number, limit: number): Promise<number> {
  return ex.run(
    `DELETE FROM outbox_message WHERE seq IN (
       SELECT seq FROM outbox_message
        WHERE completed_at_ms IS NOT NULL AND completed_at_ms < ?
          AND (state <> 'FAILED_UNREACHABLE' OR unreachable_noticed_at_ms IS NOT NULL)
        ORDER BY completed_at_ms LIMIT ?)`,
    [BigInt(beforeMs), limit],
  )
}

/**
 * Ends every claim's lease now. Only for a store with one writer process (SQLite): at start, any message
 * still SENDING was claimed by this same process before it stopped, so nobody is still sending it.
 */
export async function endLeases(ex: SqlExecutor, nowMs: number): Promise<number> {
  return ex.run("UPDATE outbox_message SET due_at_ms = ? WHERE state = 'SENDING' AND due_at_ms > ?", [BigInt(nowMs), BigInt(nowMs)])
}
