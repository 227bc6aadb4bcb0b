// Replay reads Segment payloads from files or stdin, processes every message in input
// order through regalkit on an in-memory store, and prints the contacts and diagnostics
// that result, as one JSON document (RULES.md, X: replay program).
//
// It is how to check what a Segment export, or the output of a tracking plan, will do to
// an audience before it goes live: which contacts it makes, which phones and opt-ins
// stick, and every field regalkit refuses, with its code.
//
// Usage:
//
//	go run ./examples/replay [flags] [FILE...]
//
// Each FILE holds NDJSON (one message or batch a line; a line that is not valid JSON is
// a message.invalid diagnostic and the next line is read) or one JSON document (a
// message, an array of messages or a batch envelope). With no FILE it reads stdin. The
// output is
//
//	{"contacts": [...], "diagnostics": [...], "stats": {"messages": 0, "applied": 0, "duplicates": 0, "failed": 0}}
//
// with contacts sorted by userId, then id, each with its events and consent history, and
// diagnostics in input order. Every list is an array, [] when empty, never null; the
// contact export omits its empty lists, as RULES.md, X, says. A message is failed when it was refused whole, applied
// when it was processed and is not a duplicate.
//
// Flags:
//
//	-region CC              default phone region (US)
//	-optin-event NAME[:sms,voice]   a track event that opts in (repeatable; both channels when none are named)
//	-optout-event NAME[:sms,voice]  a track event that opts out (repeatable)
//	-match-phone            match messages without a userId by phone and email (Rule I6)
//	-context-traits         apply the context.traits of track, page and screen as traits
//	                        (regalkit.Options.ApplyContextTraits; off: they are only recorded)
//	-now RFC3339            the clock, for messages with no time at all
//	-stats-only             print only {"stats": {...}}
//	-workers N              messages processed at once (default: all cores); messages
//	                        sharing an identifier still go in input order
//	-cpuprofile FILE        write a CPU profile of the whole run (runtime/pprof), to see
//	                        where the time goes on your own traffic (BENCHMARKS.md)
//	-memprofile FILE        write a heap profile once the input is applied: what the
//	                        memory store holds, by where it was allocated (inuse_space)
//
// Exit status: 0 when the input could be read, whatever the diagnostics; 2 on a usage
// error (a profile file that cannot be created included); 1 when a file cannot be read
// or the heap profile cannot be written.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/optin"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Stats counts what happened to the messages.
type Stats struct {
	Messages   int `json:"messages"`
	Applied    int `json:"applied"`
	Duplicates int `json:"duplicates"`
	Failed     int `json:"failed"`
}

type output struct {
	Contacts    []contact.Export  `json:"contacts"`
	Diagnostics []diag.Diagnostic `json:"diagnostics"`
	Stats       Stats             `json:"stats"`
}

// eventFlag collects -optin-event and -optout-event values.
type eventFlag map[string][]optin.Channel

func (f eventFlag) String() string { return "" }

func (f eventFlag) Set(v string) error {
	name, chans, hasChans := strings.Cut(v, ":")
	if name == "" {
		return errors.New("want NAME or NAME:sms,voice")
	}
	var list []optin.Channel
	if hasChans {
		for _, c := range strings.Split(chans, ",") {
			ch, ok := optin.ParseChannel(c)
			if !ok || ch == optin.Email {
				return fmt.Errorf("unknown channel %q: want sms or voice", c)
			}
			list = append(list, ch)
		}
	}
	f[name] = append(f[name], list...)
	return nil
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	region := fs.String("region", "US", "default phone `region` (ISO 3166-1)")
	optIns, optOuts := eventFlag{}, eventFlag{}
	fs.Var(optIns, "optin-event", "track event `NAME[:sms,voice]` that opts in (repeatable)")
	fs.Var(optOuts, "optout-event", "track event `NAME[:sms,voice]` that opts out (repeatable)")
	matchPhone := fs.Bool("match-phone", false, "match messages without a userId by phone and email")
	contextTraits := fs.Bool("context-traits", false, "apply the context.traits of track, page and screen as traits (regalkit.Options.ApplyContextTraits)")
	now := fs.String("now", "", "the processor's clock as `RFC3339`, for messages with no time")
	statsOnly := fs.Bool("stats-only", false, "print only the stats")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "messages processed at once (`N` workers)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `FILE`")
	memProfile := fs.String("memprofile", "", "write a heap profile to `FILE` once the input is applied")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // -h asked for the usage, which is printed
		}
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "replay: -cpuprofile: %v\n", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintf(stderr, "replay: -cpuprofile: %v\n", err)
			}
		}()
	}
	var heapProfile *os.File
	if *memProfile != "" {
		// Created now, so that a path that cannot be written fails before the replay
		// rather than after it; written once the input is applied.
		f, err := os.Create(*memProfile)
		if err != nil {
			fmt.Fprintf(stderr, "replay: -memprofile: %v\n", err)
			return 2
		}
		heapProfile = f
		defer heapProfile.Close() // a second Close after writeHeapProfile's does no harm
	}
	if *workers < 1 {
		fmt.Fprintf(stderr, "replay: -workers: want 1 or more, got %d\n", *workers)
		return 2
	}
	opts := &regalkit.Options{Region: *region, OptInEvents: optIns, OptOutEvents: optOuts, MatchByPhone: *matchPhone, ApplyContextTraits: *contextTraits, Workers: *workers}
	if *now != "" {
		t, err := time.Parse(time.RFC3339Nano, *now)
		if err != nil {
			fmt.Fprintf(stderr, "replay: -now: %v\n", err)
			return 2
		}
		opts.Now = func() time.Time { return t }
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return 2
	}

	store := memstore.New()
	r := replayer{p: regalkit.New(store, opts), keepDiags: !*statsOnly}
	inputs := fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	for _, name := range inputs {
		if err := r.replayFile(ctx, name, stdin); err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return 1
		}
	}

	if heapProfile != nil {
		if err := writeHeapProfile(heapProfile); err != nil {
			fmt.Fprintf(stderr, "replay: -memprofile: %v\n", err)
			return 1
		}
	}

	var out any = struct {
		Stats Stats `json:"stats"`
	}{r.stats}
	if !*statsOnly {
		contacts, err := exports(ctx, store)
		if err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return 1
		}
		diags := r.diags
		if diags == nil {
			diags = []diag.Diagnostic{} // the documented output is an array, never null
		}
		out = output{Contacts: contacts, Diagnostics: diags, Stats: r.stats}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return 1
	}
	return 0
}

type replayer struct {
	p     *regalkit.Processor
	stats Stats
	diags []diag.Diagnostic
	// keepDiags is false with -stats-only, whose output has no diagnostics: a long
	// replay then holds none of them in memory.
	keepDiags bool
}

// replayFile processes one input, "-" for stdin, as a stream: it is never held whole in
// memory (package segmentio's Decoder reads NDJSON line by line, and a JSON document
// whole).
func (r *replayer) replayFile(ctx context.Context, name string, stdin io.Reader) error {
	// A regular file goes to ProcessStream as it is: it knows that a file never makes a
	// Read wait, and reads it ahead freely. Standard input may be a pipe that does, and
	// is read through a buffer, unless it is a file too (replay < file).
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else if f, ok := stdin.(*os.File); !ok || !isRegular(f) {
		in = bufio.NewReaderSize(stdin, 256<<10)
	}
	err := r.p.ProcessStream(ctx, in, func(res regalkit.Result) bool {
		r.count(res)
		return true
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (r *replayer) count(res regalkit.Result) {
	r.stats.Messages++
	if r.keepDiags {
		r.diags = append(r.diags, res.Diagnostics...)
	}
	switch {
	case res.Duplicate:
		r.stats.Duplicates++
	case refusedWhole(res):
		r.stats.Failed++
	default:
		r.stats.Applied++
	}
}

// refusedWhole reports whether a message was refused as a whole: it went to no contact
// and a message-level diagnostic says why.
func refusedWhole(res regalkit.Result) bool {
	if res.ContactID != "" {
		return false
	}
	for _, d := range res.Diagnostics {
		if strings.HasPrefix(string(d.Code), "message.") {
			return true
		}
	}
	return false
}

// exports returns every contact with its events, sorted by userId, then id.
func exports(ctx context.Context, store contact.Store) ([]contact.Export, error) {
	out := []contact.Export{}
	for c, err := range store.Contacts(ctx) {
		if err != nil {
			return nil, err
		}
		var events []event.Record
		for e, err := range store.Events(ctx, c.ID(), contact.EventQuery{}) {
			if err != nil {
				return nil, err
			}
			events = append(events, e)
		}
		out = append(out, contact.Export{Contact: c, Events: events})
	}
	slices.SortStableFunc(out, func(a, b contact.Export) int {
		if c := strings.Compare(a.Contact.UserID(), b.Contact.UserID()); c != 0 {
			return c
		}
		return strings.Compare(a.Contact.ID(), b.Contact.ID())
	})
	return out, nil
}

// isRegular reports whether f is a regular file.
func isRegular(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

// writeHeapProfile writes a heap profile to f after a collection, so that its in-use
// figures are what the store holds, and closes f.
func writeHeapProfile(f *os.File) error {
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
