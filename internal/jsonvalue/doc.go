// Package jsonvalue is the module's one JSON reader: a validating, compacting scanner, a
// walker over the members of compact objects and arrays, and small readers for single
// values.
//
// It serves every package of regalkit that reads raw JSON: segmentio decodes Segment
// payloads with the [Scanner] and the [Iter]; optin reads consent records with them;
// event and contact read single trait values with the readers. Nothing here passes
// through float64 or reorders keys.
//
// # Why not encoding/json
//
// encoding/json reads into Go values; regalkit must keep the JSON itself and say
// exactly what was wrong with it, per message:
//
//   - Duplicate keys. encoding/json keeps the last of two equal keys without a word;
//     for a message, which of two userIds was meant cannot be known, so the decoder
//     refuses it (Rule D1), and the Scanner reports duplicates compared after
//     unescaping.
//   - Numbers digit for digit. IDs and custom properties keep their literal text
//     (Rules D3, T2): 123456789012345678 never becomes 1.2345678901234568e+17, as it
//     does through map[string]any.
//   - Per-item failures. One bad message in a batch fails alone, with the byte offset
//     of the fault (Rule D7); the Scanner gives the offset of every error and, through
//     Root, where each item is, so the decoder can cut items out and go on.
//   - Limits. Nesting depth and number length are bounded while scanning (Rule D7),
//     before any value is built; a syntax error, invalid UTF-8, NaN or a leading zero
//     is an [*Error] naming its offset and never quoting the input.
//
// It is also cheaper. BenchmarkTopLevel splits an analytics.js track (814 bytes) into
// its top-level members: Scanner.Compact and Root check, compact and locate them with
// no allocation in about 1.1 µs of CPU; encoding/json takes about 6.9 µs unmarshalling
// the same bytes into a struct of json.RawMessage fields (19 allocations, and it
// neither compacts nor detects duplicates) and about 11 µs into map[string]any (101
// allocations). Those are CPU times per operation, garbage collection included,
// measured with a fixed iteration count on a shared 2-core AMD EPYC machine; run
// go test -bench TopLevel to see yours. Reading each member's value is a second step
// in every case.
//
// # Scanning
//
// [Scanner.Compact] validates one JSON value (RFC 8259 grammar, UTF-8, nesting depth)
// and appends it to a buffer without insignificant whitespace. It refuses NaN and
// Infinity, leading zeros, control characters in strings and invalid UTF-8 with an
// [*Error] naming the byte offset; duplicate keys (compared after unescaping) and numbers
// longer than a limit are reported too, without stopping the scan, so a caller can
// decide per value what they spoil. [Scanner.Check] does the same without copying.
//
// # Walking
//
// An [Iter] walks the members of an object, or the elements of an array, in compact
// JSON such as Compact's output, giving byte positions so a caller can slice keys and
// values without copying; [Members] does the same for one object, with each key's JSON
// text. [EachMember] walks untrusted input, validating it first.
//
// # Reading values
//
// [String] reads one JSON string, escapes resolved; [Text] reads an identifier, a
// string or a number kept digit for digit (Rule D3). Each returns ok=false for anything
// else and never panics.
//
// # Writing
//
// [AppendString] quotes a Go string as JSON; [AppendCanonical] writes a value in a
// canonical form (object keys sorted, strings minimally escaped) for hashing.
package jsonvalue
