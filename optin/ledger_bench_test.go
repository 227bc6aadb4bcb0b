package optin

import (
	"fmt"
	"testing"
	"time"
)

// history returns a ledger of n records over two phones and both channels, as a contact
// that has sent n/2 identifies with the seed's optIn trait holds.
func history(n int) Ledger {
	records := make([]Record, n)
	for i := range records {
		records[i] = rec("2020-08-25T21:23:43Z", i%3 != 0, withID(fmt.Sprintf("m%06d", i/2)),
			withChannel([]Channel{SMS, Voice}[i%2]))
		records[i].Timestamp = records[i].Timestamp.Add(time.Duration(i/2) * time.Minute)
		if i%5 == 0 {
			records[i].Address = otherPhone
		}
	}
	return ledgerOf(records...)
}

// BenchmarkLedgerAdd adds the seed's two records, from a new message, to ledgers of
// several sizes.
func BenchmarkLedgerAdd(b *testing.B) {
	seed, _ := ParseTrait("traits.optIn", raw(seedOptIn), seedMessage())
	for _, n := range []int{0, 10, 1000} {
		b.Run(fmt.Sprintf("held=%d", n), func(b *testing.B) {
			held := history(n)
			b.ReportAllocs()
			for b.Loop() {
				l := held // a copy: Add never writes into the shared records
				if l.Add(seed...) != 2 {
					b.Fatal("not added")
				}
			}
		})
	}
}

// BenchmarkLedgerAdd_Redelivery adds records the ledger already holds.
func BenchmarkLedgerAdd_Redelivery(b *testing.B) {
	seed, _ := ParseTrait("traits.optIn", raw(seedOptIn), seedMessage())
	l := history(100)
	l.Add(seed...)
	b.ReportAllocs()
	for b.Loop() {
		if l.Add(seed...) != 0 {
			b.Fatal("added twice")
		}
	}
}

// BenchmarkResolve derives states and outcomes with the C5 binder.
func BenchmarkResolve(b *testing.B) {
	bind := BindPrimary([]PhoneWrite{{Phone: seedPhone, Time: mustTime("2020-01-01T00:00:00Z"), MessageID: "p"}})
	for _, n := range []int{2, 100} {
		b.Run(fmt.Sprintf("held=%d", n), func(b *testing.B) {
			l := history(n)
			b.ReportAllocs()
			for b.Loop() {
				if v := l.Resolve(bind); len(v.Addresses()) == 0 {
					b.Fatal("no state")
				}
			}
		})
	}
}

// BenchmarkMerge unites two ledgers of 100 records, as a contact merge does.
func BenchmarkMerge(b *testing.B) {
	x, y := history(100), history(101)
	b.ReportAllocs()
	for b.Loop() {
		l := x
		l.Merge(y)
	}
}
