// The folder mailer (no SMTP_SERVER): each email an .eml file only this user can read, named by its
// Message-ID, so the same message sent again is the same file.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@mart/shared/testing'
import { createMailer } from '../src/mailer.ts'

let tmp: ReturnType<typeof tempDir>
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => tmp.cleanup())

const mail = (text: string) => ({
  to: 'alice@mart.test',
  subject: 'Order received',
  text,
  html: `<p>${text}</p>`,
  messageId: '<0123abcd@mart.notifications>',
})

test('an email is a private .eml file named by its Message-ID; sent again, it replaces itself', async () => {
  const mailer = createMailer({ DATA_DIR: tmp.dir, SMTP_FROM: 'Mart <no-reply@mart.local>' } as never)
  const dir = join(tmp.dir, 'mail')
  const answer = await mailer.send(mail('first'))
  const file = join(dir, '0123abcd.eml')
  expect(answer).toBe(`written to ${file}`)
  expect(statSync(dir).mode & 0o777).toBe(0o700)
  expect(statSync(file).mode & 0o777).toBe(0o600)

  // A crash between the write and the rename left a temporary file, readable by others.
  writeFileSync(`${file}.tmp`, 'half an email', { mode: 0o644 })
  await mailer.send(mail('second'))
  expect(readdirSync(dir)).toEqual(['0123abcd.eml'])
  expect(statSync(file).mode & 0o777).toBe(0o600)
  const eml = readFileSync(file, 'utf8')
  expect(eml).toContain('Message-ID: <0123abcd@mart.notifications>')
  expect(eml).toContain('second')
  expect(eml).not.toContain('first')
})
