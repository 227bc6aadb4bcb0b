// send.js sends calls with Segment's older Node.js library (analytics-node), for
// TestRun_analyticsNodeLegacy in ../../segmentclient_test.go.
//
// Usage: node send.js HOST WRITE_KEY < calls.json
//
// calls.json is a JSON array of {"method": "identify"|"track"|"page"|"screen"|"group"|
// "alias", "params": {...}}: each call is made as the library's documentation shows, in
// order (a "timestamp" string made a Date, which this library requires), then the
// library is flushed. The script exits once every call's callback has
// run: 1 if any reported an error (a delivery the library gave up on), 0 otherwise.
'use strict'
const Analytics = require('analytics-node')

const [host, writeKey] = process.argv.slice(2)
const calls = JSON.parse(require('fs').readFileSync(0, 'utf8'))

const analytics = new Analytics(writeKey, {
  host,
  flushAt: 3, // several batches, so that retries and batching both happen
  flushInterval: 100,
  retryCount: 5,
})
let failed = false
let pending = calls.length
const done = (err) => {
  if (err) {
    failed = true
    console.error('analytics-node error:', err.message || err.code || err)
  }
  if (--pending === 0) {
    process.exit(failed ? 1 : 0)
  }
}
for (const { method, params } of calls) {
  if (typeof params.timestamp === 'string') {
    params.timestamp = new Date(params.timestamp) // this library takes a Date only
  }
  analytics[method](params, done)
}
analytics.flush()
