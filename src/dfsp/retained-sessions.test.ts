// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '../core/clock.ts'
import { RetainedSessions } from './retained-sessions.ts'

interface S {
  done: boolean
}

describe('RetainedSessions', () => {
  const make = () => {
    const clock = new ManualClock()
    const forgotten: string[] = []
    const sessions = new RetainedSessions<S>({ retentionMs: 1_000, clock, isSettled: (s) => s.done, onForget: (id) => forgotten.push(id) })
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
})
