// SPDX-License-Identifier: Apache-2.0
/**
 * Invariant checks. A failed assertion is a bug in Kivuko, never an expected outcome: expected
 * outcomes are statuses or HubErrors. It fails loudly so the bug cannot corrupt money quietly.
 */
export class AssertionFailed extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`)
    this.name = 'AssertionFailed'
  }
}

/** On hot paths pass the message as a function: a template string would be built on every call. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionFailed(typeof message === 'string' ? message : message())
}

/** Exhaustiveness guard for discriminated unions: compiles only when every case is handled. */
export function unreachable(value: never, what: string): never {
  throw new AssertionFailed(`unexpected ${what}: ${String(value)}`)
}
