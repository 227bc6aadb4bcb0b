// Package regalkit turns Segment traffic into Regal-style contacts.
//
// A Go service hands regalkit the identify, track, page, screen, group, alias and delete
// messages it receives from Segment, and regalkit keeps one contact per person: an
// External ID (the Segment userId) with the anonymous IDs stitched to it, E.164 phone
// numbers validated with libphonenumber, SMS and voice consent with its legal evidence,
// standard traits and custom properties, and every event on the right contact. The same
// messages in any order, any number of times, give the same contacts. Nothing is dropped
// silently: every field regalkit refuses comes back as a diagnostic with a code.
//
// # Packages
//
//   - [github.com/regalkit/regalkit/identity]: identifier keys, phone parsing to E.164
//     with a cache, email normalization, and who-is-this decisions.
//   - [github.com/regalkit/regalkit/diag]: the diagnostic type and its codes, the one
//     shape in which every package reports what it refused.
//   - [github.com/regalkit/regalkit/event]: the source-neutral message.
//
// The behaviour contract, rule by rule, is SPEC.md; rule IDs such as T8 or C6 in doc
// comments and tests point into it.
package regalkit
