// Sending one email: to the SMTP server (SMTP_SERVER) with nodemailer, or, without one (the
// embedded default), into DATA_DIR/mail as an .eml file a person can open. Either way it is called
// from the send job, outside any transaction, and the same message sent again is the same message:
// its Message-ID is fixed, and its file name is made from it (a second write replaces the first).
import { rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makePrivateDir } from '@mart/shared'
import type { Static } from '@sinclair/typebox'
import nodemailer from 'nodemailer'
import type { NotificationConfig } from './config.ts'

export interface Mail {
  to: string
  subject: string
  text: string
  html: string
  /** `<...@...>`: the same for every send of this message. */
  messageId: string
}

export interface Mailer {
  /** Hands the mail over; answers what the server (or the folder) said. Throws when it was not taken. */
  send(mail: Mail): Promise<string>
  close(): void
  /** Where mail goes, for the start-up line (never a password). */
  readonly describe: string
}

export function createMailer(config: Static<typeof NotificationConfig>): Mailer {
  return config.SMTP_SERVER ? smtpMailer(config, config.SMTP_SERVER) : folderMailer(config)
}

function smtpMailer(config: Static<typeof NotificationConfig>, host: string): Mailer {
  const transport = nodemailer.createTransport({
    host,
    port: config.SMTP_PORT,
    secure: config.SMTP_TLS === 'tls',
    requireTLS: config.SMTP_TLS === 'starttls',
    ignoreTLS: config.SMTP_TLS === 'none',
    ...(config.SMTP_USERNAME && { auth: { user: config.SMTP_USERNAME, pass: config.SMTP_PASSWORD ?? '' } }),
    // nodemailer waits 2 min to connect and 10 min for a reply by default: a hung server would hold
    // a job (and its lease) that long.
    connectionTimeout: config.SMTP_TIMEOUT_MS,
    greetingTimeout: config.SMTP_TIMEOUT_MS,
    socketTimeout: config.SMTP_TIMEOUT_MS,
  })
  return {
    describe: `smtp://${host}:${config.SMTP_PORT} (${config.SMTP_TLS})`,
    async send(mail) {
      const info = await transport.sendMail({ from: config.SMTP_FROM, ...mail })
      return String(info.response ?? 'accepted')
    },
    close: () => transport.close(),
  }
}

function folderMailer(config: Static<typeof NotificationConfig>): Mailer {
  const dir = join(config.DATA_DIR, 'mail')
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  /**
   * Writes a file only this user can read: created by this write ('wx') with mode 0600, never
   * wider whatever the umask. A leftover of a crash goes first; a missing folder is made (0700).
   * Asynchronous: on a busy disk, creating a file can take milliseconds, and every email is one.
   */
  async function writePrivate(file: string, data: Buffer): Promise<void> {
    try {
      await writeFile(file, data, { mode: 0o600, flag: 'wx' })
      return
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') makePrivateDir(dir)
      else if (code === 'EEXIST') await rm(file, { force: true })
      else throw err
    }
    await writeFile(file, data, { mode: 0o600, flag: 'wx' })
  }
  return {
    describe: `${dir}/*.eml (no SMTP_SERVER)`,
    async send(mail) {
      const info = await transport.sendMail({ from: config.SMTP_FROM, ...mail })
      const name = `${mail.messageId.replace(/^<|@.*$/g, '')}.eml`
      const file = join(dir, name)
      const tmp = `${file}.tmp`
      await writePrivate(tmp, info.message as Buffer)
      await rename(tmp, file)
      return `written to ${file}`
    },
    close() {},
  }
}
