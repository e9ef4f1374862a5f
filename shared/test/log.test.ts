import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { errorFields, errorMessage, infoLine, inTrace } from '../src/index.ts'
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

test('secret fields are censored at every depth, in a child logger bindings too', () => {
  const { log, lines } = capturedLogger()
  log.info(
    {
      password: 'hunter22',
      user: { passwordHash: '$argon2id$x', profile: { refreshToken: 'r1' } },
      response: { headers: { 'set-cookie': 'sid=s1' }, status: 200 },
    },
    'nested',
  )
  log.child({ token: 'abc.def.ghi', requestId: 'r-1' }).info({ authorization: 'Basic dTpw' }, 'child')
  const text = JSON.stringify(lines())
  for (const secret of ['hunter22', '$argon2id$x', 'r1"', 'sid=s1', 'abc.def.ghi', 'dTpw']) {
    expect(text).not.toContain(secret)
  }
  expect(lines()[0]).toMatchObject({ response: { status: 200, headers: { 'set-cookie': '[redacted]' } } })
  expect(lines()[1]).toMatchObject({ requestId: 'r-1', token: '[redacted]', authorization: '[redacted]' })
})

test('a process that stops on SIGTERM has written every line, however slowly its output is read', async () => {
  const child = Bun.spawn(['bun', join(import.meta.dir, 'fixtures', 'log-then-stop.ts'), '20000'], {
    stdout: 'pipe',
    stderr: 'inherit',
  })
  // Nobody reads for a while: the pipe fills, and lines wait in the process.
  await Bun.sleep(300)
  const out = await new Response(child.stdout).text()
  expect(await child.exited).toBe(0)
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; i?: number })
  expect(lines.filter((l) => l.msg === 'line').map((l) => l.i)).toEqual([...Array(20000).keys()])
  expect(lines.at(-1)?.msg).toBe('stopped')
})

describe('infoLine (the access line)', () => {
  const withoutTime = (line: string) => line.replace(/"time":"[^"]+"/g, '"time":0')
  const both = (write: (log: ReturnType<typeof capturedLogger>['log'], how: 'pino' | 'infoLine') => void) => {
    const viaPino = capturedLogger('product')
    const viaLine = capturedLogger('product')
    write(viaPino.log, 'pino')
    write(viaLine.log, 'infoLine')
    return { pino: viaPino.text(), line: viaLine.text() }
  }

  test('writes the bytes pino writes for the same fields: order, types, bindings, the applied trace', () => {
    const fields = {
      method: 'GET',
      path: '/api/products',
      status: 200,
      address: '127.0.0.1',
      ms: 0.42,
      ok: true,
    }
    const { pino, line } = both((log, how) => {
      const say = (l: typeof log, f: Record<string, string | number | boolean | undefined>, msg: string) =>
        how === 'pino' ? l.info(f, msg) : infoLine(l, f, msg)
      say(log, fields, 'request')
      say(log, { ...fields, userId: undefined }, 'an undefined field is left out')
      say(log.child({ requestId: 'r-1' }), fields, 'a child')
      say(log, {}, 'no fields')
      inTrace('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', () => say(log, fields, 'in a trace'))
      say(log, { ...fields, traceId: 'mine' }, 'its own trace')
      inTrace('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', () =>
        say(log, { ...fields, traceId: 'mine' }, 'its own trace in a trace'),
      )
    })
    expect(line.split('\n')).toHaveLength(8)
    expect(withoutTime(line)).toBe(withoutTime(pino))
  })

  test('scrubs as every line is scrubbed: secret field names, credentials in any string and the message', () => {
    const { pino, line } = both((log, how) => {
      const fields = { path: '/api/x?key=sk_test_51Abc', token: 'abc.def.ghi', note: 'Bearer Zm9vYmFyYmF6' }
      if (how === 'pino') log.info(fields, 'with whsec_Q1w2e3')
      else infoLine(log, fields, 'with whsec_Q1w2e3')
    })
    for (const secret of ['sk_test_51Abc', 'abc.def.ghi', 'Zm9vYmFyYmF6', 'whsec_Q1w2e3'])
      expect(line).not.toContain(secret)
    expect(withoutTime(line)).toBe(withoutTime(pino))
  })

  test('writes nothing when info is off', () => {
    const { log, text } = capturedLogger('product')
    log.level = 'warn'
    infoLine(log, { path: '/' }, 'request')
    expect(text()).toBe('')
  })
})

test('the stdout writer keeps every line, in order, across many writes and a flush at exit', async () => {
  const child = Bun.spawn(['bun', join(import.meta.dir, 'fixtures', 'log-writer-lines.ts'), '50000'], {
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const out = await new Response(child.stdout).text()
  expect(await child.exited).toBe(0)
  const lines = out.trim().split('\n')
  expect(lines.map((l) => Number(l.split(' ')[0]))).toEqual([...Array(50000).keys()])
})
