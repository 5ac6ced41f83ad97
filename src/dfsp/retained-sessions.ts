// SPDX-License-Identifier: Apache-2.0
/**
 * The in-memory sessions of payee-initiated requests, kept for a retention period after they start and then
 * forgotten once settled, so a DFSP that runs for months does not hold every request it ever saw. Within the
 * retention a resent request is answered again and a committed cash-out can still be refunded; what drives
 * the money (OTPs, holds, transfers) is in the store either way. Forgetting happens on writes, oldest first,
 * and stops at the first session still young, so each write costs what it forgets. The retention is also
 * bounded by count: a DFSP doing a hundred cash-outs a second would otherwise keep ~360,000 sessions (each
 * a few KB, over 1 GB) and outgrow its heap; past the bound the oldest settled sessions go first, however young.
 */
import type { Clock } from '../core/clock.ts'

/** Longer than a terminal keeps a transaction open to its reversal (30 minutes), so a refund still finds it. */
export const SESSION_RETENTION_MS = 60 * 60_000
/**
 * At most this many sessions kept (per side). A settled payee session holds ~3.7 KB of heap and a payer one
 * ~3 KB (bench:atm), so ~75 MB at the bound; at 5 cash-outs/s that is the whole hour, at 130/s the last
 * 2½ minutes, longer than a terminal waits before it reverses.
 */
export const SESSIONS_RETAINED_MAX = 20_000

export interface RetainedSessionsOptions<S> {
  readonly retentionMs: number
  /** Sessions kept at most; beyond it the oldest settled ones are forgotten before their retention ends. */
  readonly max: number
  readonly clock: Clock
  /** True once nothing more will happen to the session but a lookup. */
  readonly isSettled: (session: S) => boolean
  /** Told of each forgotten session: for indexes kept beside this one. */
  readonly onForget?: (id: string, session: S) => void
}

export class RetainedSessions<S> {
  readonly #options: RetainedSessionsOptions<S>
  /** Insertion order is start order, so the oldest come first. */
  readonly #entries = new Map<string, { readonly session: S; readonly startedAtMs: number }>()

  constructor(options: RetainedSessionsOptions<S>) {
    this.#options = options
  }

  get size(): number {
    return this.#entries.size
  }

  get(id: string): S | undefined {
    return this.#entries.get(id)?.session
  }

  has(id: string): boolean {
    return this.#entries.has(id)
  }

  set(id: string, session: S): void {
    this.#forgetOld()
    this.#entries.set(id, { session, startedAtMs: this.#options.clock.nowMs() })
  }

  #forgetOld(): void {
    const { retentionMs, max, clock, isSettled, onForget } = this.#options
    const cutoffMs = clock.nowMs() - retentionMs
    // Room for the one being written.
    let excess = this.#entries.size + 1 - max
    for (const [id, entry] of this.#entries) {
      if (entry.startedAtMs > cutoffMs && excess <= 0) break
      // One still in progress stays, however old; it is forgotten on a write after it settles.
      if (!isSettled(entry.session)) continue
      this.#entries.delete(id)
      excess -= 1
      onForget?.(id, entry.session)
    }
  }
}
