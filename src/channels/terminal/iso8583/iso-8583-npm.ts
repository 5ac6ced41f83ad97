// SPDX-License-Identifier: Apache-2.0
/**
 * A typed handle on the npm package iso_8583 (zemuldo/iso_8583, JavaScript, no type declarations),
 * for the interop test and the benchmark only: production code never imports this file. Only the
 * members we call are declared. The package signals failure by returning `{error}` instead of throwing.
 */
import { createRequire } from 'node:module'

/** Its message model: field number (0 is the MTI) → text; binary fields as hexadecimal text. */
export type Iso8583NpmMessage = Record<string, string>

export interface Iso8583NpmFormat {
  readonly ContentType: string
  readonly Label: string
  readonly LenType: string
  readonly MaxLen: number
}

export interface Iso8583NpmInstance {
  /** 2-byte binary length header + MTI + 16-byte binary bitmap (always both) + fields. */
  getBufferMessage(): Buffer | { error: string }
  /** Strips a 2-byte length header unless `{lenHeader: false}`. */
  getIsoJSON(buffer: Buffer, config?: { readonly lenHeader?: boolean }): Iso8583NpmMessage | { error: string }
  validateMessage(): boolean | { error: string }
}

export type Iso8583NpmConstructor = new (
  message?: Iso8583NpmMessage,
  customFormats?: Readonly<Record<string, Iso8583NpmFormat>>,
) => Iso8583NpmInstance

export const Iso8583Npm = createRequire(import.meta.url)('iso_8583') as Iso8583NpmConstructor

/** Narrows the package's `{error}` results to a thrown Error, so tests and the benchmark fail loudly. */
export function npmResult<T>(result: T | { error: string }): T {
  if (typeof result === 'object' && result !== null && 'error' in result && !Buffer.isBuffer(result)) {
    throw new Error(`iso_8583 failed: ${String((result as { error: unknown }).error)}`)
  }
  return result as T
}
