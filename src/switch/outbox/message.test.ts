// SPDX-License-Identifier: Apache-2.0
/** A message the switch hands the outbox is checked before it is stored: a malformed one is a bug, found at once. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AssertionFailed } from '../../core/assert.ts'
import { BODY_BYTES_MAX, checkMessageInput, messageId, type OutboxMessageInput } from './message.ts'

const aMessage = (overrides: Partial<OutboxMessageInput> = {}): OutboxMessageInput => ({
  destination: 'payerfsp',
  method: 'PUT',
  url: 'https://payerfsp.example/transfers/0b9d1b6e-5a52-4a3b-9f0e-1c2d3e4f5a6b',
  headers: { 'content-type': 'application/vnd.interoperability.transfers+json;version=1.1', 'fspiop-source': 'Hub' },
  body: '{"transferState":"COMMITTED"}',
  correlation: 'transfers/0b9d1b6e-5a52-4a3b-9f0e-1c2d3e4f5a6b',
  ...overrides,
})

describe('checkMessageInput', () => {
  it('accepts a well-formed message, with or without a body or an id', () => {
    checkMessageInput(aMessage())
    checkMessageInput(aMessage({ method: 'GET', body: null, url: 'http://127.0.0.1:3000/parties/MSISDN/255700000001' }))
    checkMessageInput(aMessage({ id: 'a'.repeat(64), destination: 'x'.repeat(32), correlation: 'c'.repeat(200) }))
    checkMessageInput(aMessage({ body: 'x'.repeat(BODY_BYTES_MAX) }))
  })

  const bad: readonly [string, Partial<OutboxMessageInput>][] = [
    ['an empty destination', { destination: '' }],
    ['a destination longer than an FspId', { destination: 'x'.repeat(33) }],
    ['a method FSPIOP does not use', { method: 'HEAD' as OutboxMessageInput['method'] }],
    ['a relative URL', { url: '/transfers/1' }],
    ['a URL of another scheme', { url: 'ftp://payerfsp.example/transfers/1' }],
    ['a URL with a space', { url: 'http://payerfsp.example/transfers/ 1' }],
    ['an empty correlation', { correlation: '' }],
    ['a correlation longer than 200 characters', { correlation: 'c'.repeat(201) }],
    ['a body over 5 MB', { body: 'x'.repeat(BODY_BYTES_MAX + 1) }],
    ['a body over 5 MB once encoded', { body: 'é'.repeat(BODY_BYTES_MAX / 2 + 1) }],
    ['a header value with a line break', { headers: { 'fspiop-source': 'Hub\r\nx-injected: 1' } }],
    ['a header name with a space', { headers: { 'fspiop source': 'Hub' } }],
    ['an empty id', { id: '' }],
    ['an id longer than 64 characters', { id: 'a'.repeat(65) }],
  ]
  for (const [what, overrides] of bad) {
    it(`refuses ${what}`, () => assert.throws(() => checkMessageInput(aMessage(overrides)), AssertionFailed))
  }
})

describe('messageId', () => {
  it('is a UUID version 7 carrying its creation time', () => {
    const atMs = Date.UTC(2026, 0, 1, 12, 0, 0, 123)
    const id = messageId(atMs)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), atMs)
    checkMessageInput(aMessage({ id }))
  })

  it('sorts by creation time, and ids made in the same millisecond differ', () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => messageId(1_700_000_000_000 + Math.floor(i / 10)))
    assert.equal(new Set(ids).size, ids.length)
    for (let i = 10; i < ids.length; i += 10) assert.ok((ids[i - 1] as string) < (ids[i] as string), 'a later millisecond sorts after')
  })
})
