// setLogHandler with its declared types, as a TypeScript user writes it: run-tests.sh checks this
// file with `tsc --noEmit --strict` against the package's index.d.ts (test/log.test.js runs the
// same calls). Nothing here runs.
import { setLogHandler } from 'rocketmq-ons'

type Level = 'error' | 'warn' | 'info' | 'debug' | 'trace'

export function takeTheLog(sink: (line: string) => void, minLevel: Level): void {
  setLogHandler((level: Level, target: string, message: string) => sink(`${level} ${target}: ${message}`), minLevel)
  setLogHandler((level) => sink(level))
  setLogHandler(null)
}
