// Summarises a .cpuprofile (`bun --cpu-prof`, Chrome's format): the functions with the most self
// time, and self time by where the code lives (a package, or the repo's own file). Also the
// inclusive time of functions whose name matches --match, to see what a call costs with its callees.
//   bun scripts/bench/cpuprofile.ts PROFILE.cpuprofile [--top 30] [--match name,name]
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, match: { type: 'string' } },
})
const file = positionals[0]
if (!file) {
  console.error('usage: bun scripts/bench/cpuprofile.ts PROFILE.cpuprofile [--top 30] [--match name,name]')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

const where = (url: string) => {
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1]
  if (pkg) return pkg
  const own = url.match(/\/(shared|product|user|order|inventory|payment|notification|scripts)\/(.*)$/)
  return own ? `${own[1]}/${own[2]}` : url || '(native)'
}
const label = (n: Node) => {
  const f = n.callFrame
  return `${f.functionName || '(anonymous)'} ${where(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`
}

const self = new Map<string, number>()
const byPlace = new Map<string, number>()
const inclusive = new Map<string, number>()
const matches = opts.match?.split(',') ?? []
let total = 0
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0
  const node = byId.get(id)
  if (!node) return
  total += dt
  self.set(label(node), (self.get(label(node)) ?? 0) + dt)
  const place = where(node.callFrame.url)
  byPlace.set(place, (byPlace.get(place) ?? 0) + dt)
  if (!matches.length) return
  // Each matching function on the sample's stack, once, however deep it recurses.
  const seen = new Set<string>()
  for (let n: Node | undefined = node; n; n = byId.get(parent.get(n.id) ?? -1)) {
    const name = n.callFrame.functionName
    if (matches.includes(name) && !seen.has(label(n))) {
      seen.add(label(n))
      inclusive.set(label(n), (inclusive.get(label(n)) ?? 0) + dt)
    }
  }
})

const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`
const table = (title: string, m: Map<string, number>, top: number) => {
  console.log(`\n${title}\n| what | ms | share |\n| --- | ---: | ---: |`)
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`| ${k} | ${(v / 1000).toFixed(0)} | ${pct(v)} |`)
  }
}
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`)
table('Self time by function', self, Number(opts.top))
table('Self time by place', byPlace, Number(opts.top))
if (matches.length) table('Inclusive time', inclusive, 100)
