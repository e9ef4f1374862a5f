// A real SMTP server in the test process (smtp-server, parsed with mailparser): what arrived, as a
// mail client would read it. It can refuse logins, be stopped and started again on the same port,
// and hold back its reply to a message, so a test can kill the sender inside the window between
// "the server has the mail" and "the sender heard 250".

import type { AddressInfo } from 'node:net'
import { createServer, type Server, type Socket } from 'node:net'
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

const received = (m: ParsedMail): Received => ({
  to: [m.to ?? []].flat().flatMap((a) => a.value.map((v) => v.address ?? '')),
  from: m.from?.value[0]?.address ?? '',
  subject: m.subject ?? '',
  text: m.text ?? '',
  html: typeof m.html === 'string' ? m.html : '',
  messageId: m.messageId ?? '',
  headers: m.headers,
})

export async function startSmtp(opts: { username?: string; password?: string; port?: number } = {}) {
  const inbox: Received[] = []
  let server: SMTPServer
  let port = opts.port ?? 0
  // While set, the 250 to each message waits for release(). `stored`: the server has kept the mail
  // before it answers (a sender that dies meanwhile sends it again: a duplicate); otherwise it keeps
  // it only if the sender is still connected to hear the 250 (a sender that dies never sent it).
  let holding: { stored: boolean; messages: number } | null = null
  const held: { session: string; stored: boolean; mail: Received; reply: () => void }[] = []
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
      onData(stream, session, cb) {
        simpleParser(stream).then((m) => {
          const mail = received(m)
          if (!holding) {
            inbox.push(mail)
            cb()
            return
          }
          const { stored } = holding
          if (stored) inbox.push(mail)
          held.push({ session: session.id, stored, mail, reply: cb })
          if (--holding.messages === 0) holding = null
        }, cb)
      },
      onClose(session) {
        // The sender went away before its 250: a mail not kept yet goes with it.
        for (let i = held.length - 1; i >= 0; i--) if (held[i]?.session === session.id) held.splice(i, 1)
      },
    })
  // A sender killed in the middle of a session resets its connection, and smtp-server emits that
  // as an 'error' on the server: a real server logs it and goes on serving; unheard, it would end
  // the test process. Kept, so a test can see how many there were.
  const errors: Error[] = []
  const listen = () =>
    new Promise<void>((resolve) => {
      server = make()
      server.on('error', (err) => errors.push(err))
      server.listen(port, '127.0.0.1', () => {
        port = (server.server.address() as AddressInfo).port
        resolve()
      })
    })
  const release = () => {
    holding = null
    for (const h of held.splice(0)) {
      if (!h.stored) inbox.push(h.mail)
      h.reply()
    }
  }
  await listen()
  return {
    inbox,
    /** The connection errors the server saw (a sender that died mid-session). */
    errors,
    get port() {
      return port
    },
    /** How many of `messageId` arrived. */
    count: (messageId: string) => inbox.filter((m) => m.messageId === messageId).length,
    /** The settings that point the notification service here. */
    env: (): Record<string, string> => ({
      SMTP_SERVER: '127.0.0.1',
      SMTP_PORT: String(port),
      SMTP_TLS: 'none',
      SMTP_TIMEOUT_MS: '2000',
      ...(opts.username && { SMTP_USERNAME: opts.username, SMTP_PASSWORD: opts.password ?? '' }),
    }),
    /**
     * From now on the 250 to each message waits for release(). `stored: true`: the mail is in the
     * inbox already (the server took it; only the sender does not know yet). `stored: false`: it
     * goes there at release, and is lost if its sender goes away first. `messages`: hold only
     * that many (the next ones are answered at once).
     */
    holdReplies(how: { stored: boolean; messages?: number }) {
      holding = { stored: how.stored, messages: how.messages ?? Number.POSITIVE_INFINITY }
    },
    /** How many messages wait for their 250 (from senders still connected). */
    get waiting() {
      return held.length
    },
    /** Answers every held message (keeping it) and stops holding. */
    release,
    stop: () => {
      release()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
    /** Listens again on the same port (after stop). */
    start: listen,
  }
}

/** A server that takes connections and never says a word: a hung mail server. */
export async function startSilent(port = 0) {
  const sockets = new Set<Socket>()
  let connections = 0
  const server: Server = createServer((s) => {
    connections++
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    /** How many connections it took. */
    get connections() {
      return connections
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
