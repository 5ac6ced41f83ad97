// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AssertionFailed } from '../../../core/assert.ts'
import { frame, FrameDecoder, Iso8583Error, MESSAGE_BYTES_MAX_DEFAULT, type LengthHeader } from './index.ts'

const message = (length: number, fill: number): Buffer => Buffer.alloc(length, fill)

function expectHeaderError(action: () => unknown): Iso8583Error {
  try {
    action()
  } catch (error) {
    assert.ok(error instanceof Iso8583Error, String(error))
    assert.equal(error.reason, 'bad_length_header')
    assert.equal(error.field, -1)
    assert.equal(error.fieldName, 'lengthHeader')
    return error
  }
  assert.fail('expected bad_length_header')
}

describe('ISO 8583 framing: length headers', () => {
  it('writes a 2-byte big-endian length that does not count itself', () => {
    assert.equal(frame(message(300, 0x41)).subarray(0, 2).toString('hex'), '012c')
    assert.equal(frame(message(300, 0x41)).byteLength, 302)
  })

  it('writes 4 ASCII digits when asked', () => {
    assert.equal(frame(message(42, 0x41), 'ascii4').subarray(0, 4).toString('latin1'), '0042')
  })

  it('refuses a message longer than the header can say', () => {
    expectHeaderError(() => frame(message(10_000, 0), 'ascii4'))
  })
})

describe('ISO 8583 framing: FrameDecoder', () => {
  it('returns a message that arrives whole', () => {
    const decoder = new FrameDecoder()
    assert.deepEqual(decoder.push(frame(message(20, 1))), [message(20, 1)])
    assert.equal(decoder.bufferedBytes, 0)
  })

  it('waits for the rest of a message split across chunks, even inside the header', () => {
    const decoder = new FrameDecoder()
    const framed = frame(message(20, 7))
    assert.deepEqual(decoder.push(framed.subarray(0, 1)), [])
    assert.deepEqual(decoder.push(framed.subarray(1, 9)), [])
    assert.equal(decoder.bufferedBytes, 9)
    assert.deepEqual(decoder.push(framed.subarray(9)), [message(20, 7)])
    assert.equal(decoder.bufferedBytes, 0)
  })

  it('returns several messages from one chunk, in order, keeping a partial third', () => {
    const decoder = new FrameDecoder({ header: 'ascii4' })
    const third = frame(message(30, 3), 'ascii4')
    const chunk = Buffer.concat([frame(message(10, 1), 'ascii4'), frame(message(12, 2), 'ascii4'), third.subarray(0, 6)])
    assert.deepEqual(decoder.push(chunk), [message(10, 1), message(12, 2)])
    assert.deepEqual(decoder.push(third.subarray(6)), [message(30, 3)])
  })

  it('hands out copies, so reusing the chunk does not change a message', () => {
    const decoder = new FrameDecoder()
    const chunk = frame(message(16, 5))
    const [received] = decoder.push(chunk)
    chunk.fill(0)
    assert.deepEqual(received, message(16, 5))
  })

  it('rejects an absurd length as soon as the header arrives, and stays failed', () => {
    const decoder = new FrameDecoder()
    const first = expectHeaderError(() => decoder.push(Buffer.from([0xff, 0xff])))
    assert.equal(expectHeaderError(() => decoder.push(frame(message(20, 1)))), first)
  })

  it('rejects lengths below the smallest possible message and above the configured ceiling', () => {
    expectHeaderError(() => new FrameDecoder().push(Buffer.from([0x00, 0x00])))
    expectHeaderError(() => new FrameDecoder().push(Buffer.from([0x00, 0x09])))
    expectHeaderError(() => new FrameDecoder({ messageBytesMax: 100 }).push(Buffer.from([0x00, 101])))
    assert.deepEqual(new FrameDecoder({ messageBytesMax: 100 }).push(frame(message(100, 1))), [message(100, 1)])
    assert.equal(MESSAGE_BYTES_MAX_DEFAULT, 8192)
  })

  it('rejects an ASCII header holding a non-digit', () => {
    expectHeaderError(() => new FrameDecoder({ header: 'ascii4' }).push(Buffer.from('00A0', 'latin1')))
  })

  it('refuses options that make no sense', () => {
    assert.throws(() => new FrameDecoder({ messageBytesMax: 70_000 }), AssertionFailed)
    assert.throws(() => new FrameDecoder({ header: 'ascii4', messageBytesMax: 10_000 }), AssertionFailed)
    assert.throws(() => new FrameDecoder({ messageBytesMin: 50, messageBytesMax: 40 }), AssertionFailed)
  })

  it('returns the same messages however the stream is cut into chunks (property)', () => {
    const stream = fc.record({
      header: fc.constantFrom<LengthHeader>('binary2', 'ascii4'),
      messages: fc.array(fc.uint8Array({ minLength: 10, maxLength: 200 }), { maxLength: 10 }),
      cuts: fc.array(fc.nat(), { maxLength: 15 }),
    })
    fc.assert(
      fc.property(stream, ({ header, messages, cuts }) => {
        const bytes = Buffer.concat(messages.map((body) => frame(body, header)))
        const points = [...new Set(cuts.map((cut) => (bytes.byteLength === 0 ? 0 : cut % bytes.byteLength)))].sort((a, b) => a - b)
        const decoder = new FrameDecoder({ header })
        const received: Buffer[] = []
        let from = 0
        for (const point of [...points, bytes.byteLength]) {
          received.push(...decoder.push(bytes.subarray(from, point)))
          from = point
        }
        assert.deepEqual(received.map((body) => new Uint8Array(body)), messages)
        assert.equal(decoder.bufferedBytes, 0)
      }),
      { numRuns: 300 },
    )
  })
})
