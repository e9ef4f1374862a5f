import { describe, expect, test } from 'bun:test'
import { HttpProblem } from '@mart/shared'
import { PasswordHasher } from '../src/passwords.ts'

const cheap = { memoryCost: 1024, timeCost: 1 }

describe('PasswordHasher', () => {
  test('checks go ahead of the hashes waiting; hashes keep their order', async () => {
    const hasher = new PasswordHasher({ cost: cheap, concurrency: 1, queue: 10 })
    const stored = hasher.hashNow('right-password')
    const done: string[] = []
    const work = [
      ...[0, 1, 2, 3].map((i) => hasher.hash(`password-${i}`).then(() => done.push(`hash ${i}`))),
      hasher.verify('right-password', stored).then((ok) => done.push(`verify ${ok}`)),
    ]
    await Promise.all(work)
    expect(done).toEqual(['hash 0', 'verify true', 'hash 1', 'hash 2', 'hash 3'])
  })

  test('a stream of checks cannot starve a waiting hash: it gets every fifth turn', async () => {
    const hasher = new PasswordHasher({ cost: cheap, concurrency: 1, queue: 20 })
    const stored = hasher.hashNow('right-password')
    const done: string[] = []
    const work = [hasher.hash('running').then(() => done.push('hash running'))]
    work.push(hasher.hash('waiting').then(() => done.push('hash waiting')))
    for (let i = 0; i < 8; i++) {
      work.push(hasher.verify('right-password', stored).then(() => done.push(`verify ${i}`)))
    }
    await Promise.all(work)
    expect(done).toEqual([
      'hash running',
      'verify 0',
      'verify 1',
      'verify 2',
      'verify 3',
      'hash waiting',
      'verify 4',
      'verify 5',
      'verify 6',
      'verify 7',
    ])
  })

  test('a full queue refuses a hash with 503; a check displaces the newest waiting hash', async () => {
    const hasher = new PasswordHasher({ cost: cheap, concurrency: 1, queue: 2 })
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'done',
        (err) =>
          err instanceof HttpProblem
            ? `${err.status} retry-after ${err.extra.headers?.['retry-after']}`
            : 'error',
      )
    const running = outcome(hasher.hash('a'))
    const first = outcome(hasher.hash('b'))
    const second = outcome(hasher.hash('c'))
    const refused = outcome(hasher.hash('d'))
    const check = hasher.verify('x', undefined)
    expect(await check).toBe(false)
    expect(await Promise.all([running, first, second, refused])).toEqual([
      'done',
      'done',
      expect.stringMatching(/^503 retry-after [1-9]\d*$/),
      expect.stringMatching(/^503 retry-after [1-9]\d*$/),
    ])
  })

  test('without an account the decoy is checked, and never matches', async () => {
    const hasher = new PasswordHasher({ cost: cheap, concurrency: 2, queue: 0 })
    expect(await hasher.verify('anything', undefined)).toBe(false)
    expect(await hasher.verify('secret-1', await hasher.hash('secret-1'))).toBe(true)
  })
})
