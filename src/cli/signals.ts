// SPDX-License-Identifier: Apache-2.0
/**
 * Resolves on SIGINT or SIGTERM, or when `also` is called (e.g. a child process died): the caller then stops
 * taking work and drains what is in flight.
 */
export function untilSignal(also?: (stop: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    also?.(stop)
  })
}
