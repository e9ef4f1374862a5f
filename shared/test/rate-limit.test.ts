import { describe, expect, test } from 'bun:test'
import { RateLimiter } from '../src/index.ts'

/** A limiter of 3 per 10 s on a clock the test moves. */
function limiter() {
  const clock = { now: 1_000_000 }
  return { clock, limit: new RateLimiter(3, 10_000, () => clock.now) }
}

describe('RateLimiter', () => {
  test('take counts up to the limit, then refuses with the seconds left in the window', () => {
    const { clock, limit } = limiter()
    expect(limit.take('k')).toEqual({ taken: true, left: 2 })
    expect(limit.take('k')).toEqual({ taken: true, left: 1 })
    expect(limit.take('k')).toEqual({ taken: true, left: 0 })
    clock.now += 2_500
    expect(limit.take('k')).toEqual({ taken: false, retryAfter: 8 })
    // A refused attempt counts nothing: the window still ends when it would have.
    expect(limit.retryAfter('k')).toBe(8)
    // Other keys have their own windows.
    expect(limit.take('other')).toEqual({ taken: true, left: 2 })
  })

  test('a new window starts once the old one has passed', () => {
    const { clock, limit } = limiter()
    for (let i = 0; i < 3; i++) limit.take('k')
    clock.now += 10_000
    expect(limit.retryAfter('k')).toBe(0)
    expect(limit.take('k')).toEqual({ taken: true, left: 2 })
  })

  test('refund gives one attempt back; it cannot go below none', () => {
    const { limit } = limiter()
    for (let i = 0; i < 3; i++) limit.take('k')
    limit.refund('k')
    expect(limit.take('k')).toEqual({ taken: true, left: 0 })
    expect(limit.take('k').taken).toBe(false)
    limit.refund('fresh')
    limit.refund('fresh')
    expect(limit.take('fresh')).toEqual({ taken: true, left: 2 })
  })
})
