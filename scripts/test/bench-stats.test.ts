// The figures every bench script prints go through these: a wrong rank would shift every p99.
import { expect, test } from 'bun:test'
import { formatDuration, inUnit, machineLine, percentile, percentiles } from '../bench/stats.ts'

test('percentiles are by nearest rank, over durations in any order, which are left as they are', () => {
  const durations = Array.from({ length: 100 }, (_, i) => 100 - i)
  expect(percentiles(durations)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 })
  expect(durations[0]).toBe(100)
  // Ten logins: the p50 is the 5th, as bench:auth printed it before.
  expect(percentiles([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]).p50).toBe(5)
  expect(percentiles([7])).toEqual({ count: 1, p50: 7, p90: 7, p99: 7, max: 7 })
  expect(percentile([1, 2, 3], 0)).toBe(1)
  expect(percentile([1, 2, 3], 100)).toBe(3)
  expect(Object.values(percentiles([])).slice(1).every(Number.isNaN)).toBe(true)
})

test('durations are written in µs below a millisecond, in ms from there', () => {
  expect(formatDuration(0.01234)).toBe('12.3 µs')
  expect(formatDuration(4.567)).toBe('4.57 ms')
  expect(formatDuration(1523.4)).toBe('1523.40 ms')
  expect(inUnit(0.0456, 'µs')).toBe('45.6')
  expect(inUnit(12.345, 'ms', 1)).toBe('12.3')
})

test('the machine line names the CPU, cores, memory and Bun', () => {
  const line = machineLine()
  expect(line).toStartWith('machine: ')
  expect(line).toContain(`${navigator.hardwareConcurrency} cores`)
  expect(line).toMatch(/\d+\.\d GiB memory/)
  expect(line).toContain(`bun ${Bun.version}`)
})
