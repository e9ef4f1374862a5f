// `bun run dev` as a newcomer runs it: the real process, its files, its exit code and its output.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { readdirSync, statSync } from 'node:fs'
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
