// `bun run dev` as a newcomer runs it: the real process, its files, its exit code and its output.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir, waitFor } from '@mart/shared/testing'

const root = join(import.meta.dir, '..', '..')

let tmp: ReturnType<typeof tempDir>
const children: Bun.Subprocess[] = []
beforeEach(() => {
  tmp = tempDir('mart-dev-')
})
afterEach(async () => {
  for (const c of children.splice(0)) {
    // SIGTERM first: `bun run` passes it on to `bun scripts/dev.ts`, where a SIGKILL would kill
    // `bun run` alone and leave Mart running, orphaned, after the suite.
    c.kill('SIGTERM')
    await Promise.race([c.exited, Bun.sleep(10_000)])
    c.kill('SIGKILL')
    await c.exited
  }
  tmp.cleanup()
})

/** `bun run dev` in the embedded mode with `env` on top of a quiet, throwaway setup. */
function dev(env: Record<string, string>) {
  const child = Bun.spawn(['bun', 'run', 'dev'], {
    cwd: root,
    env: {
      ...process.env,
      // The suite may run against Kafka; this is the embedded default.
      KAFKA_BROKERS: '',
      NODE_ENV: 'development',
      DATA_DIR: join(tmp.dir, 'data'),
      PORT: '0',
      LOG_PRETTY: 'false',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  children.push(child)
  const out: string[] = []
  const reading = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of child.stdout) out.push(decoder.decode(chunk, { stream: true }))
  })()
  return {
    child,
    stdout: () => out.join(''),
    /** The listener's URL, once the marketplace says it is up. */
    url: () =>
      waitFor(
        () => /embedded mode on (http:\/\/\S+)/.exec(out.join(''))?.[1],
        'the marketplace to start',
        60_000,
      ),
    /** Waits for the exit: its code, all of stdout and all of stderr. */
    async exit() {
      const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
      await reading
      return { code, stdout: out.join(''), stderr }
    },
  }
}

/** Every directory and file under `dir`, with its permission bits. */
function modesUnder(dir: string): Record<string, string> {
  const found: Record<string, string> = {}
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    found[path.slice(dir.length + 1)] = (statSync(path).mode & 0o777).toString(8)
  }
  return found
}

test('everything the running marketplace keeps under a DATA_DIR it created is readable by its user only', async () => {
  const mart = dev({})
  await fetch(`${await mart.url()}/ready`)
  const dataDir = join(tmp.dir, 'data')
  const modes = modesUnder(dataDir)
  // The services' databases, the bus journal with its lock, the development keys: all there, all private.
  expect(Object.keys(modes)).toEqual(
    expect.arrayContaining(['user.db', 'user.db-wal', 'user.db-shm', 'bus.db', 'bus.db.lock', 'keys']),
  )
  const expected = Object.fromEntries(
    Object.keys(modes).map((p) => [p, statSync(join(dataDir, p)).isDirectory() ? '700' : '600']),
  )
  expect(modes).toEqual(expected)
  expect((statSync(dataDir).mode & 0o777).toString(8)).toBe('700')
  mart.child.kill('SIGTERM')
  expect((await mart.exit()).code).toBe(0)
})

/** The "  - ..." lines of a configuration message. */
const problemLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('  - '))

test('embedded: PORT=abc LOG_LEVEL=loud PASSWORD_TIME_COST=0 is one message naming all three, before anything starts', async () => {
  const { code, stderr } = await dev({ PORT: 'abc', LOG_LEVEL: 'loud', PASSWORD_TIME_COST: '0' }).exit()
  expect(code).toBe(1)
  const lines = problemLines(stderr)
  // PORT is the listener's and LOG_LEVEL everyone's: once each, named as they are set.
  expect(lines.filter((l) => l.includes('PORT')).length).toBe(1)
  expect(lines.find((l) => l.includes('PORT'))).toStartWith('  - PORT:')
  expect(lines.filter((l) => l.includes('LOG_LEVEL')).length).toBe(1)
  expect(lines.find((l) => l.includes('LOG_LEVEL'))).toStartWith('  - LOG_LEVEL: must be one of:')
  // A service's own setting is named with its service.
  expect(lines.filter((l) => l.includes('PASSWORD_TIME_COST'))).toEqual([
    expect.stringMatching(/^ {2}- PASSWORD_TIME_COST \(user\): /),
  ])
  expect(lines.length).toBe(3)
  expect(stderr).not.toContain('abc')
  expect(stderr).not.toContain('loud')
  expect(stderr).not.toMatch(/^\s+at /m)
  // No service started: nothing was written.
  expect(existsSync(join(tmp.dir, 'data'))).toBe(false)
})

test('embedded: PORT=18101.5 is a configuration message, not a runtime error', async () => {
  const { code, stderr } = await dev({ PORT: '18101.5' }).exit()
  expect(code).toBe(1)
  expect(problemLines(stderr)).toEqual([expect.stringMatching(/^ {2}- PORT: /)])
  expect(stderr).not.toContain('options.port')
  expect(stderr).not.toMatch(/^\s+at /m)
  expect(existsSync(join(tmp.dir, 'data'))).toBe(false)
})

test('distributed: every <SERVICE>_PORT problem and every shared one in one message, before any service starts', async () => {
  const { code, stdout, stderr } = await dev({
    // Never reached: the configuration stops it first.
    KAFKA_BROKERS: '127.0.0.1:9',
    PRODUCT_PORT: 'abc',
    INVENTORY_PORT: '70000',
    USER_PORT: '8005.5',
    LOG_LEVEL: 'loud',
  }).exit()
  expect(code).toBe(1)
  const lines = problemLines(stderr)
  for (const name of ['PRODUCT_PORT', 'INVENTORY_PORT', 'USER_PORT', 'LOG_LEVEL']) {
    expect({ name, lines: lines.filter((l) => l.startsWith(`  - ${name}: `)).length }).toEqual({
      name,
      lines: 1,
    })
  }
  expect(lines.length).toBe(4)
  expect(stdout).not.toContain('service(s) on Kafka')
  expect(existsSync(join(tmp.dir, 'data'))).toBe(false)
})

test('embedded: SIGTERM logs shutting down and stopped, as a standalone service does, and exits 0', async () => {
  const mart = dev({ LOG_LEVEL: 'info' })
  expect((await fetch(`${await mart.url()}/ready`)).status).toBe(200)
  mart.child.kill('SIGTERM')
  const { code, stdout } = await mart.exit()
  expect(code).toBe(0)
  const logged = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { service: string; msg: string; signal?: string })
    .filter((l) => l.service === 'mart')
  expect(logged.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']))
  expect(logged.find((l) => l.msg === 'shutting down')?.signal).toBe('SIGTERM')
  expect(logged.findIndex((l) => l.msg === 'stopped')).toBeGreaterThan(
    logged.findIndex((l) => l.msg === 'shutting down'),
  )
  // Stopped, not just gone: the bus journal was closed and let go of.
  expect(existsSync(join(tmp.dir, 'data', 'bus.db.lock'))).toBe(false)
})

test("the README's curl session works as written: register, log in, keep the token, read the profile", async () => {
  const readme = await Bun.file(join(root, 'README.md')).text()
  const session = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1] as string)
    .find((block) => block.includes('/api/users/me'))
  expect(session).toBeDefined()
  const mart = dev({})
  const url = await mart.url()
  const script = (session as string).replaceAll('localhost:8000', new URL(url).host)
  const run = Bun.spawn(['bash', '-euo', 'pipefail', '-c', script], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, out, err] = await Promise.all([run.exited, new Response(run.stdout).text(), run.stderr])
  expect({ code, err: await new Response(err).text() }).toEqual({ code: 0, err: '' })
  // curl prints bodies without a newline: the last one is /api/users/me's, answered for alice.
  const me = JSON.parse(out.slice(out.lastIndexOf('{"id"')))
  expect(me).toMatchObject({ username: 'alice', email: 'alice@example.com', role: 'user' })
})
