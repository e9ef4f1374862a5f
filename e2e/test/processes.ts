// Mart processes a test starts from a fixture under fixtures/ and can kill -9: each prints one line
// of JSON with its URL once it serves.
import { join } from 'node:path'

export interface Child {
  process: Bun.Subprocess<'ignore', 'pipe', 'inherit'>
  /** Where it listens: http://127.0.0.1:<port>. */
  url: string
}

const running = new Set<Child>()

/** Runs `bun fixtures/<fixture> ...args` with `env` and waits for the URL it prints. */
export async function spawnFixture(
  fixture: string,
  args: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<Child> {
  const child = Bun.spawn(['bun', join(import.meta.dir, 'fixtures', fixture), ...args], {
    env,
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const reader = child.stdout.getReader()
  const decoder = new TextDecoder()
  let out = ''
  while (!out.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`${fixture} exited before it served: ${out}`)
    out += decoder.decode(value, { stream: true })
  }
  reader.releaseLock()
  const { url } = JSON.parse(out) as { url: string }
  const started = { process: child, url }
  running.add(started)
  return started
}

/** kill -9: no shutdown hook runs, nothing is flushed. Waits until the process is gone. */
export async function kill9(child: Child): Promise<void> {
  running.delete(child)
  child.process.kill('SIGKILL')
  await child.process.exited
}

/** Kills every child still running (for afterEach). */
export async function killAll(): Promise<void> {
  for (const c of [...running]) await kill9(c)
}
