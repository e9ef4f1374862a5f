// A job whose process is killed with -9 between `perform` and `record`: a real child process, a
// real SQLite file.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { JobRunner } from '../src/index.ts'
import { tempDir, testLogger } from '../src/testing.ts'
import {
  appendThenRecord,
  effects,
  jobIn,
  jobOf,
  jobsStore,
  manualClock,
  outsideLines,
} from './support/jobs.ts'

let tmp: ReturnType<typeof tempDir>
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => tmp.cleanup())

test('a job killed with -9 between perform and record runs again after a restart, and its outcome is recorded once', async () => {
  const outside = join(tmp.dir, 'outside.log')
  const child = Bun.spawn(
    ['bun', join(import.meta.dir, 'fixtures', 'perform-then-die.ts'), tmp.dir, outside],
    {
      stdout: 'inherit',
      stderr: 'inherit',
    },
  )
  await child.exited
  expect(child.signalCode).toBe('SIGKILL')
  // The outside world saw the effect; the service's database did not.
  expect(outsideLines(outside)).toEqual(['welcome-alice'])
  const store = jobsStore(tmp.dir)
  expect(jobOf(store, 'mail.send', 'welcome-alice')).toMatchObject({ state: 'running', attempts: 1 })
  expect(effects(store)).toEqual([])

  // The dead process's lease holds until it expires: a flag would hold forever.
  const clock = manualClock()
  const runner = new JobRunner(store, appendThenRecord(store, outside), testLogger('restarted'), {
    now: clock.now,
    pollMs: 10,
  })
  expect(runner.figures()).toEqual({ due: 0, dead: 0 })
  clock.advance(30_000)
  expect(runner.figures()).toEqual({ due: 1, dead: 0 })
  runner.start()
  await jobIn(store, 'mail.send', 'welcome-alice', 'done')
  await runner.stop()

  // perform ran twice with the same key (why it must be idempotent); record committed once.
  expect(outsideLines(outside)).toEqual(['welcome-alice', 'welcome-alice'])
  expect(effects(store)).toEqual(['mail.send:welcome-alice'])
  expect(jobOf(store, 'mail.send', 'welcome-alice')).toMatchObject({ state: 'done', attempts: 2 })
  store.close()
})
