import { expect, test } from 'bun:test'
import { errorFields, errorMessage } from '../src/index.ts'
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

test('a credential quoted in a message (Stripe echoes the key it was given) is masked in the line and in what is stored', () => {
  const { log, lines } = capturedLogger()
  const stripe = new Error(
    "Invalid API Key. Authorization was 'Bearer sk_test_51Abc_def' (webhook whsec_Q1w2e3, restricted rk_live_9z)",
  )
  log.error({ err: stripe }, 'logged as it is')
  log.error({ paymentId: 'p1', message: stripe.message }, 'a field of its own')
  log.error({ detail: { why: stripe.message } }, 'a nested field')
  log.warn(`in the message itself: ${stripe.message}`)
  const text = JSON.stringify(lines())
  for (const credential of ['sk_test_51Abc_def', 'whsec_Q1w2e3', 'rk_live_9z', 'Bearer sk'])
    expect(text).not.toContain(credential)
  expect(text).toContain('rk_live_[redacted]')
  expect(lines()).toHaveLength(4)
  // Prose that names a scheme is left as it is.
  expect(errorMessage(new Error('Basic authentication is required (Bearer realm="mart")'))).toBe(
    'Basic authentication is required (Bearer realm="mart")',
  )
  expect(errorMessage(stripe)).toBe(
    "Invalid API Key. Authorization was 'Bearer [redacted]' (webhook whsec_[redacted], restricted rk_live_[redacted])",
  )
})
