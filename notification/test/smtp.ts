// A real SMTP server in the test process (smtp-server, parsed with mailparser): what arrived, as a
// mail client would read it. It can refuse logins, be stopped and started again on the same port.
import type { AddressInfo } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface Received {
  to: string[]
  from: string
  subject: string
  text: string
  html: string
  messageId: string
  headers: ParsedMail['headers']
}

export async function startSmtp(opts: { username?: string; password?: string; port?: number } = {}) {
  const inbox: Received[] = []
  let server: SMTPServer
  let port = opts.port ?? 0
  const make = () =>
    new SMTPServer({
      authOptional: !opts.username,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === opts.username && auth.password === opts.password)
          cb(null, { user: auth.username })
        else cb(new Error('Invalid username or password'))
      },
      onData(stream, _session, cb) {
        simpleParser(stream).then((m) => {
          inbox.push({
            to: [m.to ?? []].flat().flatMap((a) => a.value.map((v) => v.address ?? '')),
            from: m.from?.value[0]?.address ?? '',
            subject: m.subject ?? '',
            text: m.text ?? '',
            html: typeof m.html === 'string' ? m.html : '',
            messageId: m.messageId ?? '',
            headers: m.headers,
          })
          cb()
        }, cb)
      },
    })
  const listen = () =>
    new Promise<void>((resolve) => {
      server = make()
      server.listen(port, '127.0.0.1', () => {
        port = (server.server.address() as AddressInfo).port
        resolve()
      })
    })
  await listen()
  return {
    inbox,
    get port() {
      return port
    },
    /** The settings that point the notification service here. */
    env: (): Record<string, string> => ({
      SMTP_SERVER: '127.0.0.1',
      SMTP_PORT: String(port),
      SMTP_TLS: 'none',
      SMTP_TIMEOUT_MS: '2000',
      ...(opts.username && { SMTP_USERNAME: opts.username, SMTP_PASSWORD: opts.password ?? '' }),
    }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    /** Listens again on the same port (after stop). */
    start: listen,
  }
}
