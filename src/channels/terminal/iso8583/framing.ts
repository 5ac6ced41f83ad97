// SPDX-License-Identifier: Apache-2.0
/**
 * TCP framing for ISO 8583: each message is preceded by its length. Most links use a 2-byte binary
 * big-endian length of the message that follows (not counting the header); some use 4 ASCII digits
 * (reference §8.1). TCP delivers a stream, so one chunk may hold half a message or several: the
 * FrameDecoder accumulates chunks and hands back whole messages. No sockets here, only bytes.
 */
import { assert } from '../../../core/assert.ts'
import { Iso8583Error, MESSAGE_PART } from './errors.ts'

export type LengthHeader = 'binary2' | 'ascii4'

export const LENGTH_HEADER_BYTES: Readonly<Record<LengthHeader, number>> = { binary2: 2, ascii4: 4 }

/** The largest length each header can express. */
const LENGTH_HEADER_MAX: Readonly<Record<LengthHeader, number>> = { binary2: 0xffff, ascii4: 9999 }

/**
 * The smallest message worth reading: a BCD MTI (2 bytes) and a binary primary bitmap (8 bytes).
 * Anything shorter cannot be ISO 8583, so the link is out of step.
 */
export const MESSAGE_BYTES_MIN = 10

/**
 * Our default ceiling. Real terminal messages are a few hundred bytes; a length far beyond that means
 * the peer speaks another framing (or is hostile) and reading on would only buffer garbage.
 */
export const MESSAGE_BYTES_MAX_DEFAULT = 8192

function headerError(detail: string): Iso8583Error {
  return new Iso8583Error(MESSAGE_PART.message, 'lengthHeader', 'bad_length_header', detail)
}

/** Writes `length` as a header of the given kind at `offset` of `target`. */
export function writeLengthHeader(target: Uint8Array, offset: number, length: number, header: LengthHeader): void {
  if (!Number.isInteger(length) || length < 0 || length > LENGTH_HEADER_MAX[header]) {
    throw headerError(`a ${header} header cannot carry a length of ${length}`)
  }
  if (header === 'binary2') {
    target[offset] = length >>> 8
    target[offset + 1] = length & 0xff
    return
  }
  target[offset] = 0x30 + Math.floor(length / 1000)
  target[offset + 1] = 0x30 + (Math.floor(length / 100) % 10)
  target[offset + 2] = 0x30 + (Math.floor(length / 10) % 10)
  target[offset + 3] = 0x30 + (length % 10)
}

/** Reads a header of the given kind; `source` must hold at least LENGTH_HEADER_BYTES[header] bytes from `offset`. */
export function readLengthHeader(source: Uint8Array, offset: number, header: LengthHeader): number {
  if (header === 'binary2') return ((source[offset] as number) << 8) | (source[offset + 1] as number)
  let length = 0
  for (let index = 0; index < 4; index += 1) {
    const digit = (source[offset + index] as number) - 0x30
    if (digit < 0 || digit > 9) throw headerError('the ASCII length header holds a non-digit')
    length = length * 10 + digit
  }
  return length
}

/** Prepends a length header to a packed message. */
export function frame(message: Uint8Array, header: LengthHeader = 'binary2'): Buffer {
  const headerBytes = LENGTH_HEADER_BYTES[header]
  const framed = Buffer.allocUnsafe(headerBytes + message.byteLength)
  writeLengthHeader(framed, 0, message.byteLength, header)
  framed.set(message, headerBytes)
  return framed
}

export interface FrameDecoderOptions {
  /** Default 'binary2'. */
  readonly header?: LengthHeader
  /** Lengths below this are rejected; default MESSAGE_BYTES_MIN. */
  readonly messageBytesMin?: number
  /** Lengths above this are rejected; default MESSAGE_BYTES_MAX_DEFAULT. */
  readonly messageBytesMax?: number
}

const EMPTY = Buffer.alloc(0)

/**
 * Turns a TCP byte stream into whole messages (without their headers). After an absurd length the
 * stream cannot be trusted to be in step any more, so the decoder stays failed: every later push
 * throws the same error and the connection should be closed.
 */
export class FrameDecoder {
  readonly #header: LengthHeader
  readonly #headerBytes: number
  readonly #messageBytesMin: number
  readonly #messageBytesMax: number
  #pending: Buffer = EMPTY
  #failure: Iso8583Error | undefined

  constructor(options: FrameDecoderOptions = {}) {
    this.#header = options.header ?? 'binary2'
    this.#headerBytes = LENGTH_HEADER_BYTES[this.#header]
    this.#messageBytesMin = options.messageBytesMin ?? MESSAGE_BYTES_MIN
    this.#messageBytesMax = options.messageBytesMax ?? MESSAGE_BYTES_MAX_DEFAULT
    assert(Number.isInteger(this.#messageBytesMin) && this.#messageBytesMin >= 1, 'messageBytesMin is a positive integer')
    assert(
      Number.isInteger(this.#messageBytesMax) &&
        this.#messageBytesMax >= this.#messageBytesMin &&
        this.#messageBytesMax <= LENGTH_HEADER_MAX[this.#header],
      'messageBytesMax lies between messageBytesMin and what the header can express',
    )
  }

  /** Bytes received but not yet part of a whole message: non-zero when a connection closes mid-message. */
  get bufferedBytes(): number {
    return this.#pending.byteLength
  }

  /** Feeds one chunk; returns every message it completes, in order, each in its own buffer. */
  push(chunk: Uint8Array): Buffer[] {
    if (this.#failure !== undefined) throw this.#failure
    const data = this.#pending.byteLength === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    const messages: Buffer[] = []
    let offset = 0
    while (data.byteLength - offset >= this.#headerBytes) {
      const length = this.#readLength(data, offset)
      const start = offset + this.#headerBytes
      if (data.byteLength - start < length) break
      // A copy, so a message stays intact whatever the caller later does with its chunk.
      messages.push(Buffer.from(data.subarray(start, start + length)))
      offset = start + length
    }
    this.#pending = offset === data.byteLength ? EMPTY : Buffer.from(data.subarray(offset))
    return messages
  }

  #readLength(data: Uint8Array, offset: number): number {
    try {
      const length = readLengthHeader(data, offset, this.#header)
      if (length < this.#messageBytesMin || length > this.#messageBytesMax) {
        throw headerError(`announced length ${length} is outside ${this.#messageBytesMin}..${this.#messageBytesMax}`)
      }
      return length
    } catch (error) {
      if (error instanceof Iso8583Error) this.#failure = error
      throw error
    }
  }
}
