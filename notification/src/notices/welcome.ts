import { html } from '../format.ts'
import { defineNotice } from './notice.ts'

/** A new account: welcome, and where to start. */
export default defineNotice({
  name: 'welcome',
  trigger: 'user.registered',
  category: 'account',
  audience: 'user',
  userOf: (u) => u.id,
  write: (u, _to, ctx) => ({
    title: 'Welcome to Mart',
    text: `Hello ${u.username},\n\nyour Mart account is ready. Browse the catalogue at ${ctx.publicUrl}/api/products.\n`,
    html: html`<p>Hello ${u.username},</p><p>your Mart account is ready. Browse the <a href="${ctx.publicUrl}/api/products">catalogue</a>.</p>`,
  }),
})
