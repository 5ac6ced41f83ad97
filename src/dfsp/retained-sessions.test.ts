// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ManualClock } from '../core/clock.ts'
import { RetainedSessions } from './retained-sessions.ts'

interface S {
  done: boolean
}

describe('RetainedSessions', () => {
  const make = (max = 1_000_000) => {
    const clock = new ManualClock()
    const forgotten: string[] = []
    const sessions = new RetainedSessions<S>({ retentionMs: 1_000, max, clock, isSettled: (s) => s.done, onForget: (id) => forgotten.push(id) })
    return { clock, forgotten, sessions }
  }

  it('keeps a session for its retention and forgets it once settled and old, on the next write', () => {
    const { clock, forgotten, sessions } = make()
    sessions.set('a', { done: true })
    clock.advance(999)
    sessions.set('b', { done: true })
    assert.ok(sessions.has('a'))
    clock.advance(1)
    sessions.set('c', { done: false })
    assert.equal(sessions.get('a'), undefined)
    assert.deepEqual(forgotten, ['a'])
    assert.equal(sessions.size, 2)
  })

  it('never forgets a session still in progress, however old, and forgets it once it settles', () => {
    const { clock, forgotten, sessions } = make()
    const open = { done: false }
    sessions.set('open', open)
    sessions.set('done', { done: true })
    clock.advance(5_000)
    sessions.set('new', { done: true })
    assert.ok(sessions.has('open'))
    assert.deepEqual(forgotten, ['done'])
    open.done = true
    clock.advance(1_000)
    sessions.set('newer', { done: true })
    assert.deepEqual(forgotten, ['done', 'open', 'new'])
  })

  it('stops at the first young session: the cost of a write does not grow with what is kept', () => {
    const { clock, sessions } = make()
    for (let i = 0; i < 100; i += 1) sessions.set(`s${i}`, { done: true })
    clock.advance(500)
    sessions.set('young', { done: true })
    assert.equal(sessions.size, 101)
  })

  it('keeps at most max sessions: past it the oldest settled go first, however young', () => {
    const { forgotten, sessions } = make(3)
    sessions.set('a', { done: true })
    sessions.set('b', { done: true })
    sessions.set('c', { done: true })
    assert.deepEqual(forgotten, [])
    sessions.set('d', { done: true })
    assert.deepEqual(forgotten, ['a'])
    assert.equal(sessions.size, 3)
    assert.equal(sessions.get('a'), undefined)
    assert.ok(sessions.has('b') && sessions.has('c') && sessions.has('d'))
  })

  it('never forgets a session in progress to stay under max: it passes over it to the next settled one', () => {
    const { forgotten, sessions } = make(3)
    const open = { done: false }
    sessions.set('open', open)
    sessions.set('b', { done: true })
    sessions.set('c', { done: true })
    sessions.set('d', { done: true })
    assert.deepEqual(forgotten, ['b'])
    assert.ok(sessions.has('open'))
    // Only sessions in progress left to forget: the bound gives way rather than drop one.
    const { forgotten: none, sessions: busy } = make(2)
    busy.set('x', { done: false })
    busy.set('y', { done: false })
    busy.set('z', { done: true })
    assert.deepEqual(none, [])
    assert.equal(busy.size, 3)
    open.done = true
    sessions.set('e', { done: true })
    assert.deepEqual(forgotten, ['b', 'open'])
  })

  it('property: the size stays within max plus the sessions in progress, which are always kept, as is the newest', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 600 })), { maxLength: 60 }), (max, writes) => {
        const { clock, sessions } = make(max)
        const written: { id: string; s: S; at: number }[] = []
        writes.forEach(([done, advance], i) => {
          clock.advance(advance)
          const s = { done }
          sessions.set(`s${i}`, s)
          written.push({ id: `s${i}`, s, at: clock.nowMs() })
        })
        const inProgress = written.filter((w) => !w.s.done).length
        assert.ok(sessions.size <= max + inProgress)
        // Every session in progress is still there; the last one written always is.
        for (const w of written) if (!w.s.done) assert.ok(sessions.has(w.id))
        if (written.length > 0) assert.ok(sessions.has((written.at(-1) as { id: string }).id))
      }),
    )
  })
})
