package optin

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
)

// TestRuleC8_OptInEvents: configured track events are consent records dated by the
// event, with context.ip as evidence and the event name as source; they follow C4–C7.
func TestRuleC8_OptInEvents(t *testing.T) {
	events, err := NewEvents(
		map[string][]Channel{"SMS Opt In": {SMS}, "Consented": nil, "Email Opt In": {Email}},
		map[string][]Channel{"STOP": {SMS, Voice, SMS}},
	)
	require.NoError(t, err)
	at := mustTime("2021-05-06T07:08:09.5Z")
	msg := func(ip, phone string) Message {
		return Message{ID: "track-1", Time: at, IP: ip, Phone: phone, Email: "rebecca@example.com", ProcessedAt: at.Add(time.Second)}
	}
	type want struct {
		channel    Channel
		subscribed bool
		address    string
		refused    diag.Code
	}
	tests := []struct {
		name  string
		event string
		m     Message
		want  []want
		diags []string // code and field
	}{
		{"opt-in event on sms", "SMS Opt In", msg("8.8.8.8", seedPhone),
			[]want{{SMS, true, seedPhone, ""}}, nil},
		{"no channels configured means sms and voice", "Consented", msg("8.8.8.8", seedPhone),
			[]want{{SMS, true, seedPhone, ""}, {Voice, true, seedPhone, ""}}, nil},
		{"an email opt-in applies to the message's email", "Email Opt In", msg("8.8.8.8", seedPhone),
			[]want{{Email, true, "rebecca@example.com", ""}}, nil},
		{"opt-out event without an ip", "STOP", msg("", seedPhone),
			[]want{{SMS, false, seedPhone, ""}, {Voice, false, seedPhone, ""}}, nil},
		{"opt-in event without an ip is refused", "Consented", msg("", seedPhone),
			[]want{{SMS, true, seedPhone, diag.OptinNoIP}, {Voice, true, seedPhone, diag.OptinNoIP}},
			[]string{"optin.no_ip context.ip", "optin.no_ip context.ip"}},
		{"opt-in event with a context ip that is not an IP is refused", "SMS Opt In", msg("localhost", seedPhone),
			[]want{{SMS, true, seedPhone, diag.OptinNoIP}}, []string{"optin.no_ip context.ip"}},
		{"a track without a phone binds later (Rule C5)", "SMS Opt In", msg("8.8.8.8", ""),
			[]want{{SMS, true, "", ""}}, nil},
		{"an event without a time is ignored", "STOP", Message{ID: "x", Phone: seedPhone},
			[]want{{SMS, false, seedPhone, diag.OptinNoTimestamp}, {Voice, false, seedPhone, diag.OptinNoTimestamp}},
			[]string{"optin.no_timestamp timestamp", "optin.no_timestamp timestamp"}},
		{"another event is no consent", "Loan Application Approved", msg("8.8.8.8", seedPhone), nil, nil},
		{"names match exactly", "sms opt in", msg("8.8.8.8", seedPhone), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, diags := events.Records(tt.event, tt.m)
			var got []want
			for _, r := range records {
				got = append(got, want{r.Channel, r.Subscribed, r.Address, r.Refused})
				assert.Equal(t, tt.event, r.Source, "the source is the event name")
				assert.Equal(t, tt.m.ID, r.MessageID)
				assert.Equal(t, tt.m.Time, r.Timestamp, "dated by the event time")
				assert.Equal(t, tt.m.ProcessedAt, r.ProcessedAt)
				assert.Equal(t, r.Refused, r.Check())
				if r.Refused == "" && isIP(tt.m.IP) {
					assert.Equal(t, tt.m.IP, r.IP)
				} else {
					assert.Empty(t, r.IP)
				}
			}
			assert.Equal(t, tt.want, got)
			var gotDiags []string
			for _, d := range diags {
				gotDiags = append(gotDiags, string(d.Code)+" "+d.Field)
				assert.Equal(t, tt.m.ID, d.MessageID)
			}
			assert.Equal(t, tt.diags, gotDiags)
			assert.Equal(t, tt.want != nil, events.Has(tt.event))
		})
	}

	// They follow C6 like any record: a later opt-out event beats the identify's opt-in,
	// an older one arriving later changes nothing.
	seed, _ := ParseTrait("traits.optIn", raw(seedOptIn), seedMessage())
	stopLater, _ := events.Records("STOP", Message{ID: "stop-late", Time: mustTime("2021-01-01T00:00:00Z"), Phone: seedPhone})
	stopEarlier, _ := events.Records("STOP", Message{ID: "stop-early", Time: mustTime("2019-01-01T00:00:00Z"), Phone: seedPhone})
	v := ledgerOf(append(append(seed, stopEarlier...), stopLater[0])...).Resolve(nil)
	assert.Equal(t, StateUnsubscribed, v.State(seedPhone, SMS))
	assert.Equal(t, StateSubscribed, v.State(seedPhone, Voice))
}

func TestNewEvents_errors(t *testing.T) {
	tests := []struct {
		name          string
		optIn, optOut map[string][]Channel
		want          string
	}{
		{"empty name", map[string][]Channel{"": nil}, nil, "optin: an opt-in or opt-out event needs a name"},
		{"unknown channel", map[string][]Channel{"Join": {"whatsapp"}}, nil, `optin: event "Join": unknown channel "whatsapp"`},
		{"both ways", map[string][]Channel{"Toggle": nil}, map[string][]Channel{"Toggle": {SMS}}, `optin: event "Toggle" is both an opt-in and an opt-out event`},
		{"the name is never a whole phone", map[string][]Channel{"+19545552399": {"x"}}, nil, `optin: event "+###########": unknown channel "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEvents(tt.optIn, tt.optOut)
			assert.Nil(t, e)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestEvents_zeroAndNil(t *testing.T) {
	var zero Events
	records, diags := zero.Records("STOP", seedMessage())
	assert.Nil(t, records)
	assert.Nil(t, diags)
	assert.False(t, zero.Has("STOP"))
	var nilEvents *Events
	records, _ = nilEvents.Records("STOP", seedMessage())
	assert.Nil(t, records)
	assert.False(t, nilEvents.Has("STOP"))

	e, err := NewEvents(nil, nil)
	require.NoError(t, err)
	assert.False(t, e.Has("STOP"))
}
