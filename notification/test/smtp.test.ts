// The test SMTP server outlives a sender killed in the middle of a message, as a real server does:
// the reset connection is noted, not thrown at the test process (the crash suites kill the
// notification service while it sends).
import { afterEach, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { waitFor } from '@mart/shared/testing'
import { startSmtp } from './smtp.ts'

let smtp: Awaited<ReturnType<typeof startSmtp>> | undefined
afterEach(() => smtp?.stop())

test('a sender killed after MAIL FROM (its connection reset): the server notes it and goes on serving', async () => {
  const server = await startSmtp()
  smtp = server
  // A sender that never reads its replies: killed, its unread input makes the kernel reset the
  // connection (RST), as it does for a service killed with -9 in the middle of a transaction.
  const sender = Bun.spawn([
    'bash',
    '-c',
    `exec 3<>/dev/tcp/127.0.0.1/${server.port}; sleep 0.3; printf 'EHLO sender\\r\\n' >&3; sleep 0.3;
     printf 'MAIL FROM:<shop@mart.test>\\r\\n' >&3; exec sleep 30`,
  ])
  await Bun.sleep(1_000)
  sender.kill('SIGKILL')
  await sender.exited
  await waitFor(() => server.errors.length > 0, 'the server to see the reset')
  expect(server.errors[0]?.message).toContain('ECONNRESET')

  // Still serving: the next sender is greeted.
  const next = connect(server.port, '127.0.0.1')
  const greeting = await new Promise<string>((resolve) => next.once('data', (d) => resolve(String(d))))
  expect(greeting).toStartWith('220 ')
  next.destroy()
})
