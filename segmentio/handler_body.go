package segmentio

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errTooLarge is a body over the Handler's MaxBodyBytes.
var errTooLarge = errors.New("segmentio: body too large")

// How much of a body over MaxBodyBytes the Handler reads and discards before it
// answers 413 (a lingering close, as nginx does): a client that writes its whole body
// before it reads the reply gets the 413, not a connection reset.
const (
	drainBytes = 8 << 20
	drainTime  = 2 * time.Second
)

// drain reads and discards what is left of r's body, up to drainBytes or drainTime,
// whichever comes first, and asks for the connection to be closed after the reply.
func drain(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(drainTime)) // unsupported by some writers: then the bytes bound it
	_, _ = io.CopyN(io.Discard, r.Body, drainBytes)
}

// readBody reads the request body into a pooled buffer, at most h.maxBody bytes of it
// as sent and, when gzipped, as decompressed. On failure it returns the status to
// answer and an error that says why.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (*[]byte, int, error) {
	tooLarge := errors.New("segmentio: the body is over " + strconv.FormatInt(h.maxBody, 10) + " bytes")
	if r.ContentLength > h.maxBody {
		if r.ContentLength > drainBytes || strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
			// Too large to drain, so answer at once; or the client waits for a 100
			// Continue before it sends the body, and refusing now means it never does.
			w.Header().Set("Connection", "close")
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		drain(w, r)
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	var rd io.Reader = http.MaxBytesReader(w, r.Body, h.maxBody)
	var zr *gzip.Reader
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		var err error
		if zr, err = gzip.NewReader(rd); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				drain(w, r)
				return nil, http.StatusRequestEntityTooLarge, tooLarge
			}
			return nil, http.StatusBadRequest, errors.New("segmentio: the body is not gzip data")
		}
		rd = zr
	default:
		return nil, http.StatusUnsupportedMediaType, errors.New("segmentio: unsupported Content-Encoding: use gzip or none")
	}
	b := bodies.Get().(*[]byte)
	// Room for the declared length, up to preallocBytes: a header is only a claim, and
	// a client that declares 500 KB and sends nothing must not make every connection
	// hold 500 KB; a larger body grows as it arrives.
	if n := min(r.ContentLength, preallocBytes); n > 0 && zr == nil && int64(cap(*b)) < n+1 {
		*b = make([]byte, 0, n+1) // +1: the read that sees EOF needs room
	}
	err := readAtMost(b, rd, h.maxBody)
	if err == nil && zr != nil {
		err = zr.Close()
	}
	if err != nil {
		putBody(b)
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok || errors.Is(err, errTooLarge) {
			drain(w, r)
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		if zr != nil {
			return nil, http.StatusBadRequest, errors.New("segmentio: the gzip body could not be read or decompressed")
		}
		return nil, http.StatusBadRequest, errors.New("segmentio: the body could not be read")
	}
	return b, 0, nil
}

// preallocBytes is the most readBody sets aside for a body before it arrives.
const preallocBytes = 64 << 10

// readAtMost appends all of rd to *b, and fails with errTooLarge past limit bytes.
func readAtMost(b *[]byte, rd io.Reader, limit int64) error {
	buf := *b
	defer func() { *b = buf }()
	for {
		if len(buf) == cap(buf) {
			next := min(max(int64(2*cap(buf)), 4096), limit+1)
			if next <= int64(cap(buf)) {
				return errTooLarge
			}
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			buf = grown
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return errTooLarge
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
