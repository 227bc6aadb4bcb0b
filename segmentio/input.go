package segmentio

import (
	"bytes"
	"io"
)

// How the input is split into JSON documents (Rule D1).
const (
	modeUndecided = iota
	// modeDocument: JSON values one after the other, as encoding/json's Decoder reads
	// them; a syntax error ends the input.
	modeDocument
	// modeLines: NDJSON, one value a line; a line that cannot be read fails alone.
	modeLines
)

// input reads JSON documents from a reader or a byte slice, holding at most one
// document (bounded by MaxBatchBytes) in memory.
type input struct {
	r      io.Reader // nil when reading a byte slice
	buf    []byte
	pos    int   // next unread byte of buf
	base   int64 // input offset of buf[0]
	eof    bool
	rerr   error // a read error other than io.EOF
	mode   int
	lines  int   // newlines before lineAt
	lineAt int64 // input offset up to which newlines are counted
	// filled is set when the last Read filled all the room it was given: the source
	// has more to give at once (a file, a busy connection), and the next fill reads
	// into a larger buffer, up to maxReadChunk.
	filled bool
}

// A reader's input starts with a buffer of minReadChunk bytes, and doubles it while
// Reads fill it, up to maxReadChunk: a request body of a few hundred bytes costs
// 4 KB, and a file is read 64 KB at a time instead of 4 KB (issue 14: a replay of
// 100,000 messages made 22,500 read calls, then 1,300; on a virtual machine each
// call into the kernel costs microseconds). A document longer than the buffer
// grows it further, up to the batch size limit.
const (
	minReadChunk = 4 << 10
	maxReadChunk = 64 << 10
)

// errLineTooLong stands for an NDJSON line over the batch size limit, skipped unread.
type errLineTooLong struct{ err *LimitError }

func (e errLineTooLong) Error() string { return e.err.Error() }

// fill reads more input after discarding what is consumed. It reports whether it may
// have added bytes; false means the input is exhausted.
func (in *input) fill(limit int) bool {
	if in.eof || in.r == nil {
		return false
	}
	if in.pos > 0 {
		in.countLines(in.base + int64(in.pos))
		n := copy(in.buf, in.buf[in.pos:])
		in.buf = in.buf[:n]
		in.base += int64(in.pos)
		in.pos = 0
	}
	if len(in.buf) == cap(in.buf) || in.filled && cap(in.buf) < maxReadChunk {
		size := max(2*cap(in.buf), minReadChunk)
		if size > limit+minReadChunk {
			size = max(limit+minReadChunk, len(in.buf)+minReadChunk)
		}
		if size > cap(in.buf) { // not when the limit holds the buffer where it is
			grown := make([]byte, len(in.buf), size)
			copy(grown, in.buf)
			in.buf = grown
		}
	}
	for range 100 {
		room := cap(in.buf) - len(in.buf)
		n, err := in.r.Read(in.buf[len(in.buf):cap(in.buf)])
		in.buf = in.buf[:len(in.buf)+n]
		in.filled = n == room
		if err == io.EOF {
			in.eof = true
			return n > 0
		}
		if err != nil {
			in.rerr = err
			in.eof = true
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	in.rerr = io.ErrNoProgress
	in.eof = true
	return false
}

// countLines counts the newlines up to input offset upTo, which must be in buf.
func (in *input) countLines(upTo int64) {
	if upTo <= in.lineAt {
		return
	}
	in.lines += bytes.Count(in.buf[in.lineAt-in.base:upTo-in.base], newline)
	in.lineAt = upTo
}

var newline = []byte{'\n'}

// lineOf returns the line (from 1) of input offset off, which must be in buf.
func (in *input) lineOf(off int64) int {
	in.countLines(off)
	return in.lines + 1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace moves past whitespace and reports whether a non-space byte follows.
func (in *input) skipSpace(limit int) bool {
	for {
		for in.pos < len(in.buf) && isSpace(in.buf[in.pos]) {
			in.pos++
		}
		if in.pos < len(in.buf) {
			return true
		}
		if !in.fill(limit) {
			return false
		}
	}
}

// next returns the next document, its input offset and line. The document is valid
// until the next call. At the end it returns io.EOF; an NDJSON line over the limit is
// an errLineTooLong, after which reading can go on; other errors end the input.
func (in *input) next(lim *Limits) (doc []byte, off int64, line int, err error) {
	limit := lim.MaxBatchBytes
	if !in.skipSpace(limit) {
		if in.rerr != nil {
			return nil, in.base + int64(in.pos), 0, in.rerr
		}
		return nil, in.base + int64(in.pos), 0, io.EOF
	}
	if in.mode == modeUndecided {
		in.mode = in.decide(limit)
	}
	off = in.base + int64(in.pos)
	line = in.lineOf(off)
	if in.mode == modeLines {
		return in.nextLine(limit, off, line)
	}
	var b boundary
	scanned := 0 // bytes after pos already given to b
	for {
		window := in.buf[in.pos:min(len(in.buf), in.pos+limit+1)]
		end := b.scan(window, scanned)
		if end > limit { // the window holds one byte past the limit, which may end a value
			return nil, off, line, &LimitError{Limit: LimitBatchBytes, Max: limit, Offset: off}
		}
		if end >= 0 {
			doc = in.buf[in.pos : in.pos+end]
			in.pos += end
			return doc, off, line, nil
		}
		scanned = len(window)
		if scanned > limit {
			return nil, off, line, &LimitError{Limit: LimitBatchBytes, Max: limit, Offset: off}
		}
		if !in.fill(limit) {
			if in.rerr != nil {
				return nil, off, line, in.rerr
			}
			doc = in.buf[in.pos:] // truncated: the scanner reports where
			in.pos = len(in.buf)
			return doc, off, line, nil
		}
	}
}

// nextLine returns the NDJSON line at pos.
func (in *input) nextLine(limit int, off int64, line int) ([]byte, int64, int, error) {
	searched := 0
	for {
		window := in.buf[in.pos:min(len(in.buf), in.pos+limit+1)]
		if k := bytes.IndexByte(window[searched:], '\n'); k >= 0 {
			doc := window[:searched+k]
			in.pos += searched + k + 1
			return doc, off, line, nil
		}
		searched = len(window)
		if searched > limit {
			break
		}
		if !in.fill(limit) {
			if in.rerr != nil {
				return nil, off, line, in.rerr
			}
			doc := in.buf[in.pos:]
			in.pos = len(in.buf)
			return doc, off, line, nil
		}
	}
	// The line is too long: skip to its end without keeping it.
	for {
		if k := bytes.IndexByte(in.buf[in.pos:], '\n'); k >= 0 {
			in.pos += k + 1
			break
		}
		in.pos = len(in.buf)
		if !in.fill(limit) {
			break
		}
	}
	if in.rerr != nil {
		return nil, off, line, in.rerr
	}
	return nil, off, line, errLineTooLong{&LimitError{Limit: LimitBatchBytes, Max: limit, Offset: off}}
}

// decide chooses how to split the input from its first line (Rule D1): NDJSON when the
// first line closes every bracket and string it opens and more content follows on a
// later line; one stream of JSON values otherwise (a pretty-printed document, or a
// single line).
func (in *input) decide(limit int) int {
	searched := 0
	nl := -1
	for {
		if k := bytes.IndexByte(in.buf[in.pos+searched:], '\n'); k >= 0 {
			nl = searched + k
			break
		}
		searched = len(in.buf) - in.pos
		if searched > limit || !in.fill(limit) {
			return modeDocument
		}
	}
	if !confined(in.buf[in.pos : in.pos+nl]) {
		return modeDocument
	}
	for j := nl + 1; ; j++ {
		if in.pos+j >= len(in.buf) {
			if j > limit {
				return modeLines
			}
			if !in.fill(limit) {
				return modeDocument
			}
		}
		if in.pos+j < len(in.buf) && !isSpace(in.buf[in.pos+j]) {
			return modeLines
		}
	}
}

// confined reports whether line closes every string and bracket it opens.
func confined(line []byte) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range line {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString:
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return !inString && depth <= 0
}

// boundary finds where a JSON value ends without validating it (the scanner does that
// afterwards), so a document can be read whole before it is parsed.
type boundary struct {
	started  bool
	kind     byte // '{' for containers, '"' for a string, 0 for a scalar
	depth    int
	inString bool
	escaped  bool
}

// scan continues over b[from:] (b starts with the value) and returns the length of the
// value, or -1 when it does not end within b.
func (s *boundary) scan(b []byte, from int) int {
	if len(b) == 0 {
		return -1
	}
	if !s.started {
		s.started = true
		switch b[0] {
		case '{', '[':
			s.kind = '{'
		case '"':
			s.kind = '"'
			s.inString = true
			from = 1
		case '}', ']', ',', ':':
			return 1 // not a value: one byte, for the scanner to refuse
		}
	}
	for j := from; j < len(b); j++ {
		c := b[j]
		if s.inString {
			switch {
			case s.escaped:
				s.escaped = false
			case c == '\\':
				s.escaped = true
			case c == '"':
				s.inString = false
				if s.kind == '"' {
					return j + 1
				}
			}
			continue
		}
		switch s.kind {
		case '{':
			switch c {
			case '"':
				s.inString = true
			case '{', '[':
				s.depth++
			case '}', ']':
				s.depth--
				if s.depth == 0 {
					return j + 1
				}
			}
		default: // a scalar ends at a delimiter
			if isSpace(c) || c == ',' || c == ':' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"' {
				return j
			}
		}
	}
	return -1
}
