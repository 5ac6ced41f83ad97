// SPDX-License-Identifier: Apache-2.0
/** Time as milliseconds since the Unix epoch. Domain code asks a Clock, never Date.now(), so tests control time. */
export interface Clock {
  nowMs(): number
}

export const systemClock: Clock = { nowMs: () => Date.now() }

/** A clock that moves only when told to: for tests of expiry and timeouts. */
export class ManualClock implements Clock {
  #nowMs: number
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#nowMs = startMs
  }
  nowMs(): number {
    return this.#nowMs
  }
  advance(ms: number): void {
    this.#nowMs += ms
  }
  set(ms: number): void {
    this.#nowMs = ms
  }
}
