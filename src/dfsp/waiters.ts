// SPDX-License-Identifier: Apache-2.0
/**
 * Where the outbound API waits for a callback: a key per exchange (`party:MSISDN/256…`, `quote:<id>`,
 * `transfer:<id>`), registered before the request is sent (the callback may arrive before the switch's
 * 202 does), resolved by the inbound handler, or timed out. Every waiter on a key gets the same answer:
 * two customers looking up one party share one callback, as the Mojaloop SDK's cache subscriptions do.
 *
 * In memory, so the callback must reach the process that waits: run one process per DFSP, or route the
 * switch's callbacks to the instance that sent the request. Transfers are also persisted, so a transfer
 * whose caller timed out still ends in its right state when its callback lands elsewhere.
 */
export interface Waiting<T> {
  /** Resolves with the answer, or undefined when the time ran out or the wait was cancelled. */
  readonly answer: Promise<T | undefined>
  cancel(): void
}

export class Waiters<T> {
  readonly #waiting = new Map<string, Set<(value: T | undefined) => void>>()

  wait(key: string, timeoutMs: number): Waiting<T> {
    let settle: (value: T | undefined) => void = () => undefined
    const answer = new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs)
      settle = (value) => {
        clearTimeout(timer)
        const set = this.#waiting.get(key)
        set?.delete(settle)
        if (set?.size === 0) this.#waiting.delete(key)
        resolve(value)
      }
    })
    const set = this.#waiting.get(key) ?? new Set()
    set.add(settle)
    this.#waiting.set(key, set)
    return { answer, cancel: () => settle(undefined) }
  }

  /** Answers every waiter on `key`; returns how many there were. */
  resolve(key: string, value: T): number {
    const set = this.#waiting.get(key)
    if (set === undefined) return 0
    const settles = [...set]
    for (const settle of settles) settle(value)
    return settles.length
  }

  /** Ends every wait with undefined: for shutdown. */
  cancelAll(): void {
    for (const set of [...this.#waiting.values()]) for (const settle of [...set]) settle(undefined)
  }

  get size(): number {
    let n = 0
    for (const set of this.#waiting.values()) n += set.size
    return n
  }
}
