package segmentio

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// errTooLarge is a body over the Handler's MaxBodyBytes.
var errTooLarge = errors.New("segmentio: body too large")

// readBody reads the request body into a pooled buffer, at most h.maxBody bytes of it
// as sent and, when gzipped, as decompressed. On failure it returns the status to
// answer and an error that says why.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (*[]byte, int, error) {
	tooLarge := errors.New("segmentio: the body is over " + strconv.FormatInt(h.maxBody, 10) + " bytes")
	if r.ContentLength > h.maxBody {
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
				return nil, http.StatusRequestEntityTooLarge, tooLarge
			}
			return nil, http.StatusBadRequest, errors.New("segmentio: the body is not gzip data")
		}
		rd = zr
	default:
		return nil, http.StatusUnsupportedMediaType, errors.New("segmentio: unsupported Content-Encoding: use gzip or none")
	}
	b := bodies.Get().(*[]byte)
	if n := r.ContentLength; n > 0 && zr == nil && int64(cap(*b)) < n+1 {
		*b = make([]byte, 0, n+1) // +1: the read that sees EOF needs room
	}
	err := readAtMost(b, rd, h.maxBody)
	if err == nil && zr != nil {
		err = zr.Close()
	}
	if err != nil {
		putBody(b)
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok || errors.Is(err, errTooLarge) {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		if zr != nil {
			return nil, http.StatusBadRequest, errors.New("segmentio: the gzip body could not be read or decompressed")
		}
		return nil, http.StatusBadRequest, errors.New("segmentio: the body could not be read")
	}
	return b, 0, nil
}

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
