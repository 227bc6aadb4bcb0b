// Corpusgen writes the benchmark corpus of package corpus to stdout, for measuring
// whole processes (examples/replay, the naive loop) on a file:
//
//	go run ./internal/corpus/corpusgen -messages 1000000 -users 200000 -seed 1 > /tmp/corpus.ndjson
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/regalkit/regalkit/internal/corpus"
)

func main() {
	messages := flag.Int("messages", 100_000, "number of messages")
	users := flag.Int("users", 0, "number of users (0: messages/5)")
	seed := flag.Uint64("seed", 1, "corpus seed")
	flag.Parse()
	if err := corpus.Write(os.Stdout, corpus.Config{Messages: *messages, Users: *users, Seed: *seed}); err != nil {
		fmt.Fprintln(os.Stderr, "corpusgen:", err)
		os.Exit(1)
	}
}
