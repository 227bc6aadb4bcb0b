// Naivereplay runs the baseline loop over an NDJSON file and prints how many messages
// it read, the whole-process counterpart of `examples/replay -stats-only` in
// BENCHMARKS.md:
//
//	go run ./internal/baseline/naivereplay FILE
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/regalkit/regalkit/internal/baseline"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: naivereplay FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "naivereplay:", err)
		os.Exit(1)
	}
	defer f.Close()
	l := baseline.New()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var messages, applied, failed int
	for sc.Scan() {
		messages++
		ok, err := l.Handle(sc.Bytes())
		switch {
		case err != nil:
			failed++
		case ok:
			applied++
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "naivereplay:", err)
		os.Exit(1)
	}
	fmt.Printf(`{"stats":{"messages":%d,"applied":%d,"duplicates":%d,"failed":%d,"profiles":%d}}`+"\n",
		messages, applied, messages-applied-failed, failed, l.Len())
}
