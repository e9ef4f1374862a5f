import { expect, test } from 'bun:test'
import { errorFields } from '../src/index.ts'
import { capturedLogger } from '../src/testing.ts'

test('an error reaches a log line as its type and message, never its stack, however it is logged', () => {
  const { log, lines } = capturedLogger()
  const error = new TypeError('the row is gone')
  log.error({ err: error }, 'logged as it is')
  log.error(errorFields(error), 'logged through errorFields')
  log.error(error, 'logged alone')
  for (const line of lines()) {
    expect(line.err).toEqual({ type: 'TypeError', message: 'the row is gone' })
    expect(JSON.stringify(line)).not.toMatch(/\n\s+at |log\.test\.ts/)
  }
  expect(lines()).toHaveLength(3)
})
