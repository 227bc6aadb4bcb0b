// Package jsonvalue reads JSON exactly and safely: a validating, compacting scanner, a
// walker over the members of compact objects and arrays, and small lenient readers for
// single values.
//
// It serves every package of regalkit that reads raw JSON: segmentio decodes Segment
// payloads with the [Scanner] and the [Iter]; event, contact and optin read single trait
// values (a string, a "true"/"false", an age) with the readers. Nothing here passes
// through float64 or reorders keys.
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
// values without copying. [EachMember] and [EachElement] do the same for untrusted
// input, validating it first.
//
// # Reading values
//
// [String], [Text], [Bool] and [Int] read one raw JSON value leniently, the way real
// Segment traffic needs: an ID that is a number kept digit for digit, a boolean sent as
// the string "true", an integer sent as "23". Each returns ok=false for anything else
// and never panics.
//
// # Writing
//
// [AppendString] quotes a Go string as JSON; [AppendCanonical] writes a value in a
// canonical form (object keys sorted, strings minimally escaped) for hashing.
package jsonvalue
