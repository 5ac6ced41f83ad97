// SPDX-License-Identifier: Apache-2.0
/**
 * Descriptions of messages for logs and operators, with sensitive fields masked by default (moov's
 * DefaultFilters idea): a PAN keeps its first 6 and last 4 digits, tracks, PIN blocks, chip data and
 * OTPs are masked entirely. A caller that truly needs a value in clear names it in `reveal`.
 */
import { describeMti } from './mti.ts'
import { SPEC_87, type FieldName, type FieldSpec, type Iso8583Message, type Iso8583Spec } from './spec-87.ts'

export interface DescribeOptions {
  /** Fields to show in clear despite being sensitive. */
  readonly reveal?: readonly FieldName[]
  /** The table that marks fields sensitive; default SPEC_87. */
  readonly spec?: Iso8583Spec
}

/** A message as plain JSON-safe data: text as is, bytes as upper-case hex, sensitive values masked. */
export interface Iso8583LogObject {
  readonly mti: string
  readonly fields: Readonly<Record<string, string>>
}

interface NamedSpec {
  readonly number: number
  readonly spec: FieldSpec
}

const specIndexes = new WeakMap<Iso8583Spec, ReadonlyMap<string, NamedSpec>>()

function indexByName(spec: Iso8583Spec): ReadonlyMap<string, NamedSpec> {
  let index = specIndexes.get(spec)
  if (index === undefined) {
    index = new Map(Object.entries(spec).map(([number, field]) => [field.name, { number: Number(number), spec: field }]))
    specIndexes.set(spec, index)
  }
  return index
}

/** First 6 and last 4 digits of a PAN; a value too short to keep 3 digits hidden keeps only its last 4. */
export function maskPan(pan: string): string {
  if (pan.length >= 13) return pan.slice(0, 6) + '*'.repeat(pan.length - 10) + pan.slice(-4)
  if (pan.length > 4) return '*'.repeat(pan.length - 4) + pan.slice(-4)
  return '*'.repeat(pan.length)
}

function toText(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex').toUpperCase()
}

function shown(value: string | Uint8Array, field: FieldSpec | undefined, reveal: readonly string[]): string {
  const text = toText(value)
  // A field the table does not know is masked: we cannot tell whether it is sensitive.
  const sensitive = field === undefined ? 'secret' : field.sensitive
  if (sensitive === undefined || reveal.includes(field?.name ?? '')) return text
  return sensitive === 'pan' ? maskPan(text) : '*'.repeat(text.length)
}

function presentFields(message: Iso8583Message, index: ReadonlyMap<string, NamedSpec>): [string, string | Uint8Array, NamedSpec | undefined][] {
  const entries = Object.entries(message.fields as Readonly<Record<string, string | Uint8Array | undefined>>)
  return entries
    .filter((entry): entry is [string, string | Uint8Array] => entry[1] !== undefined)
    .map(([name, value]): [string, string | Uint8Array, NamedSpec | undefined] => [name, value, index.get(name)])
    .sort((left, right) => (left[2]?.number ?? Infinity) - (right[2]?.number ?? Infinity))
}

/** The message for structured logs, in field order, sensitive values masked. */
export function toLogObject(message: Iso8583Message, options: DescribeOptions = {}): Iso8583LogObject {
  const index = indexByName(options.spec ?? SPEC_87)
  const reveal = options.reveal ?? []
  const fields: Record<string, string> = {}
  for (const [name, value, named] of presentFields(message, index)) fields[name] = shown(value, named?.spec, reveal)
  return { mti: message.mti, fields }
}

/**
 * The message for people, one field per line, sensitive values masked:
 *   MTI 0200  ISO 8583:1987 financial request from acquirer
 *   F2    pan                        Primary account number (PAN): 476173******0119
 */
export function describe(message: Iso8583Message, options: DescribeOptions = {}): string {
  const index = indexByName(options.spec ?? SPEC_87)
  const reveal = options.reveal ?? []
  let mtiMeaning: string
  try {
    mtiMeaning = describeMti(message.mti)
  } catch {
    mtiMeaning = 'not a valid MTI'
  }
  const lines = [`MTI ${message.mti}  ${mtiMeaning}`]
  for (const [name, value, named] of presentFields(message, index)) {
    const label = named === undefined ? `F?    ${name.padEnd(32)} (not in the field specification)` : `F${String(named.number).padEnd(4)} ${name.padEnd(32)} ${named.spec.description}`
    lines.push(`${label}: ${shown(value, named?.spec, reveal)}`)
  }
  return lines.join('\n')
}
