// Elysia's ValidationError, as patched (patches/elysia@1.4.30.patch): it quotes the value it
// rejects in part, so rejecting a huge or deeply nested input costs no more than a small one.
import { describe, expect, test } from 'bun:test'
import { t, ValidationError } from 'elysia'

describe('a rejected value is quoted, never serialised whole', () => {
  const schema = t.Object({ name: t.String({ maxLength: 10 }), tags: t.Array(t.Integer(), { maxItems: 3 }) })
  const huge = { name: 'x'.repeat(1_000_000), tags: Array.from({ length: 10_000 }, () => 'not a number') }

  test("Elysia's ValidationError message and error summaries stay small", () => {
    const err = new ValidationError('body', schema, huge)
    expect(err.message.length).toBeLessThan(8_000)
    for (const e of err.all) expect(JSON.stringify(e.summary ?? '').length).toBeLessThan(300)
    // The value itself is still there for code that needs it.
    expect(err.value).toBe(huge)
  })

  test('the same in production, where the message has another shape', async () => {
    const script = `
      import { t, ValidationError } from 'elysia'
      const err = new ValidationError('body', t.Object({ name: t.String({ maxLength: 10 }) }), { name: 'x'.repeat(1_000_000) })
      console.log(err.message.length)`
    const child = Bun.spawn(['bun', '-e', script], {
      cwd: import.meta.dir,
      env: { ...process.env, NODE_ENV: 'production' },
      stdout: 'pipe',
      stderr: 'inherit',
    })
    const out = await new Response(child.stdout).text()
    expect(await child.exited).toBe(0)
    expect(Number(out.trim())).toBeLessThan(1_000)
  })
})
