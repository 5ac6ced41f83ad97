// SPDX-License-Identifier: Apache-2.0
/**
 * What the switch reads about participants on every message — the record with its currencies and active
 * flags, its callback endpoints, and which participant an API token belongs to — kept in memory, since it
 * changes only through the admin API and a transfer would otherwise read it five to seven times.
 *
 * How stale an entry may be:
 * - A write made through this process (the Switch's admin methods) empties the cache once its transaction
 *   has ended, committed or not, so the next message reads the new rows. A read that was under way when the
 *   cache was emptied is used for its own message but not kept (the generation check), so an old row can
 *   never outlive the write that replaced it.
 * - A write made by another process sharing the database (several switches on one PostgreSQL) is seen once
 *   the entry is older than `ttlMs` (1 s by default there, as Mojaloop's central-ledger caches participants).
 *   Within that bound a deactivated participant, a changed endpoint or a replaced token may still be used by
 *   the other processes. On SQLite this process is the only writer, so entries live until a write.
 *
 * Misses are read through the executor given (inside a transaction on SQLite the store itself would wait
 * for that very transaction). Unknown names and tokens are not cached, so the cache holds at most one entry
 * per participant and one token per participant.
 */
import type { SqlExecutor } from '../store/ports.ts'
import * as repo from '../store/switch/switch-repo.ts'

export interface ParticipantEntry {
  readonly record: repo.ParticipantRecord
  readonly endpoints: ReadonlyMap<string, string>
}

export interface ParticipantCacheOptions {
  /** How long an entry is trusted without a write of this process: Infinity when no other process writes. */
  readonly ttlMs: number
  /** Monotonic milliseconds; real time by default, since the bound is about other processes' writes. */
  readonly now?: () => number
}

/** Entries kept at most: far more than any scheme's participants, so only a bug or an attack would reach it. */
const ENTRIES_MAX = 10_000

export class ParticipantCache {
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #participants = new Map<string, { readonly entry: ParticipantEntry; readonly readAtMs: number }>()
  readonly #tokens = new Map<string, { readonly name: string; readonly readAtMs: number }>()
  /** Bumped by every invalidation: a read that began before one is not kept. */
  #generation = 0

  constructor(options: ParticipantCacheOptions) {
    this.#ttlMs = options.ttlMs
    this.#now = options.now ?? (() => performance.now())
  }

  /** The participant and its endpoints, or undefined when there is no such participant. */
  async participant(ex: SqlExecutor, name: string): Promise<ParticipantEntry | undefined> {
    const cached = this.#participants.get(name)
    if (cached !== undefined && this.#fresh(cached.readAtMs)) return cached.entry
    const generation = this.#generation
    const readAtMs = this.#now()
    const record = await repo.findParticipant(ex, name)
    if (record === undefined) return undefined
    const entry: ParticipantEntry = { record, endpoints: await repo.endpointsOf(ex, name) }
    if (generation === this.#generation) this.#keep(this.#participants, name, { entry, readAtMs })
    return entry
  }

  /** The name of the participant whose token has this hash, if any. */
  async participantByTokenHash(ex: SqlExecutor, hash: string): Promise<string | undefined> {
    const cached = this.#tokens.get(hash)
    if (cached !== undefined && this.#fresh(cached.readAtMs)) return cached.name
    const generation = this.#generation
    const readAtMs = this.#now()
    const name = await repo.findParticipantByTokenHash(ex, hash)
    if (name === undefined) {
      // A token that no longer matches must not stay accepted through an old entry.
      this.#tokens.delete(hash)
      return undefined
    }
    if (generation === this.#generation) this.#keep(this.#tokens, hash, { name, readAtMs })
    return name
  }

  /** Forgets everything: call once a write to participants, currencies, endpoints or tokens has ended. */
  invalidate(): void {
    this.#generation += 1
    this.#participants.clear()
    this.#tokens.clear()
  }

  /** Runs a write and invalidates once it has ended, whether it committed, failed or its outcome is unknown. */
  async writing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write()
    } finally {
      this.invalidate()
    }
  }

  #fresh(readAtMs: number): boolean {
    return this.#now() - readAtMs < this.#ttlMs
  }

  #keep<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= ENTRIES_MAX && !map.has(key)) map.clear()
    map.set(key, value)
  }
}
