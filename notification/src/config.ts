import { serviceConfig } from '@mart/shared'
import { Type } from '@sinclair/typebox'

export const NotificationConfig = serviceConfig(8006, {
  /** The SMTP server's host; unset, emails are written as .eml files under DATA_DIR/mail (through the same queue). */
  SMTP_SERVER: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  SMTP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
  SMTP_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  SMTP_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  /** How the connection is secured: none, STARTTLS (required), or TLS from the first byte. */
  SMTP_TLS: Type.Union([Type.Literal('none'), Type.Literal('starttls'), Type.Literal('tls')], {
    default: 'starttls',
  }),
  SMTP_FROM: Type.String({ minLength: 3, maxLength: 320, default: 'Mart <no-reply@mart.local>' }),
  /** How long to wait for the server's connection, greeting and each reply: a hung server holds a job this long. */
  SMTP_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  /** Sends before an email is dead (listed for admins, retried by hand); with the default backoff, 10 to 20 hours. */
  EMAIL_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 1000, default: 30 }),
  /** The wait after an email's first failed send, doubling after each next one up to an hour. */
  EMAIL_RETRY_INITIAL_MS: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 5_000 }),
  /** Addresses that get the admin notices besides the admins' own, comma-separated. */
  ADMIN_NOTIFY_EMAILS: Type.String({ default: '', maxLength: 2000 }),
  /** Where links in notices point: the gateway. */
  PUBLIC_URL: Type.String({ pattern: '^https?://[^\\s]+[^/\\s]$', default: 'http://127.0.0.1:8000' }),
})
