// `bun scripts/bench/cpuprofile.ts <file.cpuprofile> [--top 30] [--from ms] [--on name,name]`: what a
// `bun --cpu-prof` profile spent its time on. Prints the functions with the most self time, then where
// the time goes by the nearest frame of our own code (its file: run it from the repo), and, for each name given with --on,
// the share of samples with that function anywhere on the stack (inclusive time).
// --group 'journal=bus/memory-journal,relay=bus/relay,...' also sums the samples by the first frame from the
// leaf up whose file contains one of the fragments (first rule wins on a frame), 'other' where none does.
// --from skips the first ms of the profile (setup and warm-up); --functions groups by our nearest
// function rather than its file.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  parent?: number
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    from: { type: 'string', default: '0' },
    on: { type: 'string', default: '' },
    functions: { type: 'boolean', default: false },
    group: { type: 'string', default: '' },
  },
})
const file = positionals[0]
if (!file) throw new Error('usage: bun scripts/bench/cpuprofile.ts <file.cpuprofile> [--top n] [--from ms]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile

const byId = new Map<number, ProfileNode>()
for (const n of profile.nodes) byId.set(n.id, n)
for (const n of profile.nodes) for (const c of n.children ?? []) (byId.get(c) as ProfileNode).parent = n.id

const where = (f: CallFrame) => {
  const path = f.url.replace(/^file:\/\//, '')
  const short = path.startsWith('/') ? relative(process.cwd(), path) || path : path
  return `${short.replace(/^node_modules\//, '~/')}:${f.lineNumber + 1}`
}
const label = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${f.url ? where(f) : ''}`.trim()
const ownCode = (f: CallFrame) => {
  const path = f.url.replace(/^file:\/\//, '')
  return path.startsWith(process.cwd()) && !path.includes('/node_modules/')
}

const from = Number(opts.from) * 1000
const byFunction = opts.functions
const self = new Map<string, number>()
const nearestOwn = new Map<string, number>()
const onStack = new Map<string, number>()
const wanted = opts.on ? opts.on.split(',') : []
const rules = (opts.group ? opts.group.split(',') : []).map((r) => r.split('=') as [string, string])
const groups = new Map<string, number>()
let total = 0
let t = 0
let idle = 0
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0
  t += profile.timeDeltas[i] ?? 0
  if (t < from) continue
  const leaf = byId.get(profile.samples[i] as number) as ProfileNode
  if (leaf.callFrame.functionName === '(idle)') {
    idle += dt
    continue
  }
  total += dt
  self.set(label(leaf.callFrame), (self.get(label(leaf.callFrame)) ?? 0) + dt)
  let own: string | undefined
  const seen = new Set<string>()
  for (
    let n: ProfileNode | undefined = leaf;
    n;
    n = n.parent === undefined ? undefined : byId.get(n.parent)
  ) {
    if (!own && ownCode(n.callFrame))
      own = byFunction ? label(n.callFrame) : where(n.callFrame).replace(/:\d+$/, '')
    for (const w of wanted) if (!seen.has(w) && n.callFrame.functionName === w) seen.add(w)
  }
  const key = own ?? '(no frame of ours)'
  nearestOwn.set(key, (nearestOwn.get(key) ?? 0) + dt)
  for (const w of seen) onStack.set(w, (onStack.get(w) ?? 0) + dt)
  if (rules.length > 0) {
    let group = 'other'
    find: for (
      let n: ProfileNode | undefined = leaf;
      n;
      n = n.parent === undefined ? undefined : byId.get(n.parent)
    ) {
      for (const [name, fragment] of rules) {
        if (n.callFrame.url.includes(fragment)) {
          group = name
          break find
        }
      }
    }
    groups.set(group, (groups.get(group) ?? 0) + dt)
  }
}

const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`
const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`
const top = Number(opts.top)
console.log(`${file}: ${ms(total)} busy, ${ms(idle)} idle on the profiled thread\n`)
console.log('self time:')
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${pct(v).padStart(6)}  ${k}`)
console.log('\nby the nearest frame of our own code (inclusive of libraries it called):')
for (const [k, v] of [...nearestOwn].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${pct(v).padStart(6)}  ${k}`)
if (rules.length > 0) {
  console.log('\nby group (--group):')
  for (const [k, v] of [...groups].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(v).padStart(6)}  ${k}`)
}
if (wanted.length > 0) {
  console.log('\non the stack (inclusive):')
  for (const w of wanted) console.log(`  ${pct(onStack.get(w) ?? 0).padStart(6)}  ${w}`)
}
