// send.js sends calls with Segment's Node.js library (@segment/analytics-node), for
// TestRun_analyticsNode in ../../segmentclient_test.go.
//
// Usage: node send.js HOST WRITE_KEY < calls.json
//
// calls.json is a JSON array of {"method": "identify"|"track"|"page"|"screen"|"group"|
// "alias", "params": {...}}: each call is made as the library's documentation shows,
// in order, then the library is closed and flushed. The script exits 1 if the library
// reported any error (a delivery it gave up on included), 0 otherwise.
'use strict'
const { Analytics } = require('@segment/analytics-node')

const [host, writeKey] = process.argv.slice(2)
const calls = JSON.parse(require('fs').readFileSync(0, 'utf8'))

const analytics = new Analytics({
  writeKey,
  host,
  maxEventsInBatch: 3, // several batches, so that retries and batching both happen
  flushInterval: 100,
  maxRetries: 5,
})
let failed = false
analytics.on('error', (err) => {
  failed = true
  console.error('analytics-node error:', err && (err.reason || err.code || err))
})
for (const { method, params } of calls) {
  analytics[method](params)
}
analytics.closeAndFlush({ timeout: 20000 }).then(() => {
  process.exit(failed ? 1 : 0)
})
