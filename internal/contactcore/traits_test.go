package contactcore

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRuleT1_StandardKeysMatchAfterNormalizing(t *testing.T) {
	for _, key := range []string{"firstName", "first_name", "FirstName", "First Name", "FIRST-NAME", "first.name",
		"first\u00a0name", "first\u2013name", "first\u2011name", "First\u3000Name"} { // no-break space, en dash, no-break hyphen, ideographic space
		t.Run(key, func(t *testing.T) {
			c, diags := apply(t, identify(t, 0, `{"`+key+`":"Rebecca"}`))
			assert.Empty(t, diags)
			assert.Equal(t, "Rebecca", c.FirstName())
			assert.Empty(t, c.CustomKeys(), "a standard key is not also custom")
		})
	}
	c, _ := apply(t, identify(t, 0, `{"e_mail":"r@example.com","Last Name":"Greene","PHONE":"954-555-2399","Age":"40","gender":"f"}`))
	assert.Equal(t, "r@example.com", c.Email())
	assert.Equal(t, "Greene", c.LastName())
	assert.Equal(t, "+19545552399", c.Phone())
	age, _ := c.Age()
	assert.Equal(t, 40, age)
	assert.Equal(t, "f", c.Gender())

	// Letters of other scripts stay: a key is no standard one for being foreign.
	c, _ = apply(t, identify(t, 0, `{"prénom":"Ann"}`))
	_, ok := c.Custom("prénom")
	assert.True(t, ok)
}

func TestRuleT1_NameFillsFirstAndLastOnlyWhenAbsent(t *testing.T) {
	c, _ := apply(t, identify(t, 0, `{"name":"Rebecca Anne Greene"}`))
	assert.Equal(t, "Rebecca", c.FirstName())
	assert.Equal(t, "Anne Greene", c.LastName())

	c, _ = apply(t, identify(t, 0, `{"name":"Rebecca Greene","firstName":"Becky"}`))
	assert.Equal(t, "Becky", c.FirstName())
	assert.Empty(t, c.LastName(), "name is ignored when firstName is in the same message")

	c, _ = apply(t, identify(t, 0, `{"name":"Rebecca Greene"}`), identify(t, 1, `{"name":"Cher"}`))
	assert.Equal(t, "Cher", c.FirstName())
	assert.Equal(t, "Greene", c.LastName(), "a one-word name leaves lastName")

	m := identify(t, 0, `{"name":"Rebecca Greene"}`)
	m.Context.Traits = mustObject(t, `{"last_name":"G."}`)
	c, _ = apply(t, m)
	assert.Empty(t, c.FirstName(), "lastName in context.traits of the same message counts")
	assert.Equal(t, "G.", c.LastName())
}

func TestRuleT2_CustomPropertiesKeptExactly(t *testing.T) {
	c, diags := apply(t, identify(t, 0, `{"salaryBracket":"$100k-$500k","big":123456789012345678901234567890,"pi":3.14159265358979323846,"exp":1e400,"flag":false,"tags":["a",1,{"b":null}],"nested":{"z":1,"a":[2]},"empty":"","Plan Name":"gold"}`))
	require.Empty(t, diags)
	for key, want := range map[string]string{
		"salaryBracket": `"$100k-$500k"`,
		"big":           `123456789012345678901234567890`,
		"pi":            `3.14159265358979323846`,
		"exp":           `1e400`,
		"flag":          `false`,
		"tags":          `["a",1,{"b":null}]`,
		"nested":        `{"z":1,"a":[2]}`,
		"empty":         `""`,
		"Plan Name":     `"gold"`,
	} {
		got, ok := c.Custom(key)
		assert.True(t, ok, key)
		assert.Equal(t, want, got, key)
	}
	_, ok := c.Custom("planname")
	assert.False(t, ok, "custom keys stay under their original key")
}

func TestRuleT3_SourcesOfTraits(t *testing.T) {
	m := identify(t, 0, `{"firstName":"Own","plan":"own"}`)
	m.Context.Traits = mustObject(t, `{"first_name":"Context","lastName":"FromContext","plan":"context","extra":1}`)
	c, _ := apply(t, m)
	assert.Equal(t, "Own", c.FirstName(), "the message's own traits win")
	assert.Equal(t, "FromContext", c.LastName(), "context.traits fill what the traits lack")
	plan, _ := c.Custom("plan")
	assert.Equal(t, `"own"`, plan)
	extra, _ := c.Custom("extra")
	assert.Equal(t, `1`, extra)

	for _, kind := range []event.Kind{event.Track, event.Page, event.Screen, event.Group, event.Alias} {
		m := identify(t, 0, `{"firstName":"Nope"}`)
		m.Kind = kind
		m.Context.Traits = mustObject(t, `{"lastName":"Nope"}`)
		c := New("")
		ch := c.ApplyTraits(m, nil)
		assert.False(t, ch.Changed(), kind.String())
		assert.Empty(t, c.FirstName(), kind.String())
		assert.Empty(t, c.LastName(), kind.String())
	}
}

func TestRuleT4_LastWriterWinsByEventTime(t *testing.T) {
	newer := identify(t, 10, `{"firstName":"Newer","plan":"b"}`)
	older := identify(t, 5, `{"firstName":"Older","plan":"a","lastName":"Only"}`)
	for _, order := range [][]*event.Message{{older, newer}, {newer, older}} {
		c, _ := apply(t, order...)
		assert.Equal(t, "Newer", c.FirstName())
		assert.Equal(t, "Only", c.LastName(), "a field absent from a message is untouched")
		plan, _ := c.Custom("plan")
		assert.Equal(t, `"b"`, plan)
	}
}

func TestRuleT4_EqualTimesBreakByLargerMessageID(t *testing.T) {
	a := identify(t, 0, `{"firstName":"A"}`)
	a.MessageID = "msg-a"
	b := identify(t, 0, `{"firstName":"B"}`)
	b.MessageID = "msg-b"
	for _, order := range [][]*event.Message{{a, b}, {b, a}} {
		c, _ := apply(t, order...)
		assert.Equal(t, "B", c.FirstName())
	}
}

func TestRuleT4_NullRemoves(t *testing.T) {
	set := identify(t, 0, `{"firstName":"Rebecca","plan":"gold","phone":"+19545552399","email":"r@example.com","age":30,"address":{"city":"NYC","floor":3}}`)
	remove := identify(t, 1, `{"firstName":null,"plan":null,"phone":null,"email":null,"age":null,"address":null}`)
	for _, order := range [][]*event.Message{{set, remove}, {remove, set}} {
		c, diags := apply(t, order...)
		assert.Empty(t, diags)
		assert.Empty(t, c.FirstName())
		assert.Empty(t, c.Email())
		_, ok := c.Age()
		assert.False(t, ok)
		_, ok = c.Custom("plan")
		assert.False(t, ok)
		assert.True(t, c.Address().IsZero(), "address null removes every part, unknown ones too")
		// phone: null removes the phone trait; the number stays one of the contact's
		// phones (a phone leaves only by a null in `phones`, Rule T9).
		assert.Equal(t, []string{"+19545552399"}, c.Phones())
	}
	// A null older than the value changes nothing.
	c, _ := apply(t, identify(t, 5, `{"firstName":"Kept"}`), identify(t, 1, `{"firstName":null}`))
	assert.Equal(t, "Kept", c.FirstName())
}

func TestRuleT4_EmptyStringKeptForCustomRefusedForStandard(t *testing.T) {
	c, diags := apply(t, identify(t, 0, `{"firstName":"Rebecca","gender":"f"}`), identify(t, 1, `{"firstName":"","gender":"  ","note":""}`))
	assert.Equal(t, "Rebecca", c.FirstName())
	assert.Equal(t, "f", c.Gender())
	note, ok := c.Custom("note")
	assert.True(t, ok)
	assert.Equal(t, `""`, note)
	assert.Equal(t, []diag.Code{diag.TraitInvalid, diag.TraitInvalid}, codes(diags))
	assert.Equal(t, "traits.firstName", diags[0].Field)

	// An empty phone or email is an empty standard trait too, not a malformed one; the
	// old values stay.
	c, diags = apply(t, identify(t, 0, `{"phone":"+19545552399","email":"r@example.com"}`), identify(t, 1, `{"phone":"","email":" "}`))
	assert.Equal(t, []diag.Code{diag.TraitInvalid, diag.TraitInvalid}, codes(diags))
	_, diags = apply(t, identify(t, 1, `{"phone":"\u0020","email":"\t"}`))
	assert.Equal(t, []diag.Code{diag.TraitInvalid, diag.TraitInvalid}, codes(diags), "escaped whitespace is empty too")
	assert.Equal(t, "+19545552399", c.Phone())
	assert.Equal(t, "r@example.com", c.Email())
}

func TestRuleT4_NestedCustomReplacedWhole(t *testing.T) {
	c, _ := apply(t, identify(t, 0, `{"prefs":{"a":1,"b":2}}`), identify(t, 1, `{"prefs":{"c":3}}`))
	got, _ := c.Custom("prefs")
	assert.Equal(t, `{"c":3}`, got)
}

func TestRuleT5_AddressFromEveryKeyFamily(t *testing.T) {
	tests := []struct {
		name, traits string
		want         Address
	}{
		{"segment", `{"address":{"street":"1 Main St","city":"Austin","state":"TX","postalCode":"78701","country":"USA"}}`,
			Address{Line1: "1 Main St", City: "Austin", State: "TX", PostalCode: "78701", Country: "USA"}},
		{"segment zip", `{"address":{"street":"1 Main St","zip":"78701"}}`, Address{Line1: "1 Main St", PostalCode: "78701"}},
		{"regal api", `{"address":{"street":"1 Main St","city":"Austin","state":"TX","zipcode":"78701"}}`,
			Address{Line1: "1 Main St", City: "Austin", State: "TX", PostalCode: "78701"}},
		{"seed", `{"address":{"AddressLine1":"201 Maiden Lane.","AddressLine2":"11M","City":"New York","ZipOrPostcode":"10128","StateProvinceCounty":"NY","CountryId":"US"}}`,
			Address{Line1: "201 Maiden Lane.", Line2: "11M", City: "New York", State: "NY", PostalCode: "10128", Country: "US"}},
		{"snake case", `{"address":{"address_line_1":"1 Main","postal_code":"78701"}}`, Address{Line1: "1 Main", PostalCode: "78701"}},
		{"string", `{"address":"1 Main St, Austin TX"}`, Address{Line1: "1 Main St, Austin TX"}},
		{"unknown sub-keys kept", `{"address":{"city":"Austin","floor":3,"Gate Code":"12#"}}`,
			Address{City: "Austin", Extra: map[string]string{"floor": "3", "Gate Code": `"12#"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, diags := apply(t, identify(t, 0, tt.traits))
			assert.Empty(t, diags)
			assert.Equal(t, tt.want, c.Address())
		})
	}
	// Parts merge one by one (Rule T4).
	c, _ := apply(t, identify(t, 1, `{"address":{"city":"Austin"}}`), identify(t, 0, `{"address":{"city":"Dallas","state":"TX"}}`))
	assert.Equal(t, Address{City: "Austin", State: "TX"}, c.Address())
	// A refused part leaves the others.
	c, diags := apply(t, identify(t, 0, `{"address":{"city":true,"state":"TX"}}`))
	assert.Equal(t, Address{State: "TX"}, c.Address())
	assert.Equal(t, []diag.Code{diag.TraitInvalid}, codes(diags))
	assert.Equal(t, "traits.address.city", diags[0].Field)
}

func TestRuleT6_AgeAndGender(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want int
		ok   bool
	}{
		{`23`, 23, true}, {`"41"`, 41, true}, {`0`, 0, true}, {`150`, 150, true}, {`30.0`, 30, true},
		{`151`, 0, false}, {`-1`, 0, false}, {`23.5`, 0, false}, {`"twenty"`, 0, false}, {`true`, 0, false},
		{`""`, 0, false}, {`1e2`, 0, false}, {`99999999999999999999`, 0, false},
	} {
		t.Run(tt.raw, func(t *testing.T) {
			c, diags := apply(t, identify(t, 0, `{"age":77}`), identify(t, 1, `{"age":`+tt.raw+`}`))
			age, _ := c.Age()
			if tt.ok {
				assert.Empty(t, diags)
				assert.Equal(t, tt.want, age)
			} else {
				assert.Equal(t, []diag.Code{diag.TraitInvalid}, codes(diags))
				assert.Equal(t, 77, age, "the old value stays")
			}
		})
	}
	c, _ := apply(t, identify(t, 0, `{"gender":"non-binary"}`))
	assert.Equal(t, "non-binary", c.Gender())
}

func TestRuleT7_Email(t *testing.T) {
	c, diags := apply(t, identify(t, 0, `{"email":"  Rebecca@Example.COM "}`))
	assert.Empty(t, diags)
	assert.Equal(t, "Rebecca@example.com", c.Email())

	c, diags = apply(t, identify(t, 0, `{"email":"rebecca@example.com"}`), identify(t, 1, `{"email":"rebecca.greene@example"}`))
	assert.Equal(t, "rebecca@example.com", c.Email(), "an invalid email leaves the old one")
	require.Equal(t, []diag.Code{diag.EmailInvalid}, codes(diags))
	assert.NotContains(t, diags[0].Message, "rebecca.greene")
	assert.Equal(t, "traits.email", diags[0].Field)
}

func TestRuleT8_Phone(t *testing.T) {
	for _, raw := range []string{`"+19545552399"`, `19545552399`, `"19545552399"`, `"(954) 555-2399"`, `"954.555.2399"`} {
		c, diags := apply(t, identify(t, 0, `{"phone":`+raw+`}`))
		assert.Empty(t, diags, raw)
		assert.Equal(t, "+19545552399", c.Phone(), raw)
	}
	for _, raw := range []string{`"+11115555555"`, `"+144455555555"`, `"+1 555 555 5555"`, `"555-1234"`, `"call me"`, `true`, `{}`} {
		t.Run(raw, func(t *testing.T) {
			c, diags := apply(t, identify(t, 0, `{"phone":"+19175554444"}`), identify(t, 1, `{"phone":`+raw+`}`))
			assert.Equal(t, "+19175554444", c.Phone(), "the contact keeps its old phone")
			require.Equal(t, []diag.Code{diag.PhoneInvalid}, codes(diags))
			assert.Equal(t, "traits.phone", diags[0].Field)
			digits := strings.Trim(raw, `"+`)
			if len(digits) > 5 {
				assert.NotContains(t, diags[0].Message, digits[:len(digits)-4])
			}
		})
	}
	// Another default region.
	c := New("")
	c.ApplyTraits(identify(t, 0, `{"phone":"020 7946 0018"}`), &ApplyOptions{Region: "GB"})
	assert.Equal(t, "+442079460018", c.Phone())
}

func TestRuleT9_SeveralPhones(t *testing.T) {
	m := identify(t, 0, `{"phones":{"+19175554444":{"label":"work"},"(954) 555-2399":{"label":"mobile","isPrimary":true}}}`)
	c, diags := apply(t, m)
	require.Empty(t, diags)
	assert.Equal(t, []string{"+19175554444", "+19545552399"}, c.Phones())
	assert.Equal(t, "+19545552399", c.Phone(), "the phone marked isPrimary")
	assert.Equal(t, "work", c.PhoneLabel("+19175554444"))
	assert.Equal(t, "mobile", c.PhoneLabel("+19545552399"))

	// isPrimary beats a later phone trait; the phone trait's number joins the set.
	c, _ = apply(t, m, identify(t, 5, `{"phone":"+12125550123"}`))
	assert.Equal(t, "+19545552399", c.Phone())
	assert.Len(t, c.Phones(), 3)

	// Without isPrimary, the latest phone trait decides (Rule T4 order).
	c, _ = apply(t, identify(t, 5, `{"phone":"+12125550123"}`), identify(t, 1, `{"phone":"+19175554444"}`))
	assert.Equal(t, "+12125550123", c.Phone())

	// isPrimary as a string, and unmarking.
	c, _ = apply(t, m, identify(t, 2, `{"phones":{"+19545552399":{"isPrimary":"false"},"+19175554444":{"isPrimary":"true"}}}`))
	assert.Equal(t, "+19175554444", c.Phone())

	// Of two phones marked isPrimary, the later mark wins, in any order.
	markA := identify(t, 1, `{"phones":{"+19175554444":{"isPrimary":true}}}`)
	markB := identify(t, 2, `{"phones":{"+19545552399":{"isPrimary":true}}}`)
	for _, order := range [][]*event.Message{{markA, markB}, {markB, markA}} {
		c, _ = apply(t, order...)
		assert.Equal(t, "+19545552399", c.Phone())
	}

	// null removes a number.
	c, _ = apply(t, m, identify(t, 3, `{"phones":{"+19175554444":null}}`))
	assert.Equal(t, []string{"+19545552399"}, c.Phones())

	// A bad number in phones is refused alone, masked.
	c, diags = apply(t, identify(t, 0, `{"phones":{"+1 555 555 5555":{"label":"x"},"+19175554444":{"label":"ok"}}}`))
	assert.Equal(t, []string{"+19175554444"}, c.Phones())
	require.Equal(t, []diag.Code{diag.PhoneInvalid}, codes(diags))
	assert.NotContains(t, diags[0].Field+diags[0].Message, "555 555")
}

func TestRuleT10_Limits(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 305 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("0", 3-len(itoa(i))) + itoa(i) + `":1`)
	}
	b.WriteString(`,"` + strings.Repeat("x", 256) + `":1}`)
	c, diags := apply(t, identify(t, 0, b.String()))
	assert.Len(t, c.CustomKeys(), 300)
	assert.Len(t, diags, 6)
	for _, d := range diags {
		assert.Equal(t, diag.TraitLimit, d.Code)
	}
	_, ok := c.Custom("k299")
	assert.True(t, ok, "the first 300 are kept")
	_, ok = c.Custom("k300")
	assert.False(t, ok)
	assert.Less(t, len(diags[5].Field), 60, "a long key is cut in the diagnostic")

	// The limit counts characters, not bytes.
	long := strings.Repeat("é", 255)
	c, diags = apply(t, identify(t, 0, `{"`+long+`":1,"`+long+`é":2}`))
	_, ok = c.Custom(long)
	assert.True(t, ok, "255 two-byte characters are 255 characters")
	require.Len(t, diags, 1)
	assert.Equal(t, diag.TraitLimit, diags[0].Code)

	// A sub-key may be longer than a trait's key; its diagnostic's field is cut all
	// the same, so that no key makes a diagnostic large.
	_, diags = apply(t, identify(t, 0, `{"phones":{"+19545552399":{"`+strings.Repeat("a@", 20000)+`":1}}}`))
	require.NotEmpty(t, diags)
	for _, d := range diags {
		assert.Less(t, len(d.Field), 120, d.Code)
	}
}

// TestApplyTraits_manyTraits: a message with more traits than applyTraitsAt keeps the
// standard field of on its stack (messageFields) still gets its late standard traits
// as standard fields, and its late context.traits still give way to its own traits
// (Rule T3).
func TestApplyTraits_manyTraits(t *testing.T) {
	var own, ctx strings.Builder
	own.WriteString(`{`)
	ctx.WriteString(`{`)
	for i := range messageFields + 10 {
		fmt.Fprintf(&own, `"k%03d":1,`, i)
		fmt.Fprintf(&ctx, `"c%03d":1,`, i)
	}
	own.WriteString(`"email":"ann@example.com","firstName":"Ann"}`)
	ctx.WriteString(`"firstName":"Bea","lastName":"Lee"}`)
	m := identify(t, 0, own.String())
	m.Context.Traits = mustObject(t, ctx.String())
	c, diags := apply(t, m)
	require.Empty(t, diags)
	assert.Equal(t, "ann@example.com", c.Email())
	assert.Equal(t, "Ann", c.FirstName(), "the message's own firstName wins over context.traits (Rule T3)")
	assert.Equal(t, "Lee", c.LastName())
	_, ok := c.Custom("email")
	assert.False(t, ok, "email is a standard trait, not a custom property")
	assert.Len(t, c.CustomKeys(), 2*(messageFields+10))
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestRuleA1_InAudienceWithValidPhone(t *testing.T) {
	c, _ := apply(t, identify(t, 0, `{"firstName":"Rebecca","email":"r@example.com"}`))
	assert.False(t, c.InAudience())
	c, _ = apply(t, identify(t, 0, `{"phone":"+1 555 555 5555"}`))
	assert.False(t, c.InAudience(), "an invalid phone does not count")
	c, _ = apply(t, identify(t, 0, `{"phone":"+19545552399"}`))
	assert.True(t, c.InAudience())
}

func TestRuleA2_SubscriptionIsThePrimaryPhones(t *testing.T) {
	m := identify(t, 0, `{"phones":{"+19175554444":{"smsOptIn":{"subscribed":true,"timestamp":"2020-08-25T21:00:00Z"}},"+19545552399":{"isPrimary":true,"voiceOptIn":{"subscribed":true,"timestamp":"2020-08-25T21:00:00Z"}}}}`)
	c, diags := apply(t, m)
	require.Empty(t, diags)
	assert.Equal(t, "none", c.Subscription("sms").String(), "the other phone's SMS opt-in does not count")
	assert.Equal(t, "subscribed", c.Subscription("voice").String())
}

// A message dated before 1970, or with no time at all, still writes: the zero stamp of
// a field never written sorts before every real time (Rule T4).
func TestRuleT4_OldTimesStillWrite(t *testing.T) {
	old := identify(t, 0, `{"firstName":"Ada","plan":"x"}`)
	old.Time = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := apply(t, old)
	assert.Equal(t, "Ada", c.FirstName())
	zero := identify(t, 0, `{"lastName":"Lovelace"}`)
	zero.Time, zero.MessageID = time.Time{}, ""
	c.ApplyTraits(zero, nil)
	assert.Equal(t, "Lovelace", c.LastName())
	c.ApplyTraits(identify(t, 0, `{"lastName":"Byron"}`), nil)
	assert.Equal(t, "Byron", c.LastName(), "a dated message beats one without a time")
}

// TestFieldPath_internedIsString checks that a path printed through the intern table
// reads as String prints it, masked keys and sub-fields included, and that a plain
// path costs no allocation once seen.
func TestFieldPath_internedIsString(t *testing.T) {
	paths := []fieldPath{
		{base: "traits.", key: "optIn"},
		{base: "context.traits.", key: "opt_in"},
		{base: "traits.", key: "rebecca@example.com"},
		{base: "traits.", key: "+19545552399"},
		{base: "traits.", key: strings.Repeat("k", 80)},
		fieldPath{base: "traits.", key: "optIn"}.dot("0"),
		fieldPath{base: "traits.", key: "phones"}.dotRaw([]byte(`"+19545552399"`)),
	}
	for _, p := range paths {
		assert.Equal(t, p.String(), p.interned(), "path %q", p.String())
	}
	p := fieldPath{base: "traits.", key: "optIn"}
	p.interned()
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.interned() }))
}

// TestRuleT4_EscapedStringIsNotTheSameValue: a string trait whose JSON text, escapes
// unresolved, equals the value the contact holds is not necessarily that value: the
// text a\"b is the value a"b. Taken for a re-send, the later write kept the older value,
// and the outcome depended on the arrival order (Rules T4, S3).
func TestRuleT4_EscapedStringIsNotTheSameValue(t *testing.T) {
	older := identify(t, 0, `{"firstName":"a\\\"b","address":{"city":"c\\\"d"}}`) // a\"b, c\"d
	newer := identify(t, 1, `{"firstName":"a\"b","address":{"city":"c\"d"}}`)     // a"b, c"d
	for _, order := range [][]*event.Message{{older, newer}, {newer, older}} {
		c, diags := apply(t, order...)
		assert.Empty(t, diags)
		assert.Equal(t, `a"b`, c.FirstName(), "the later write wins whatever the order")
		assert.Equal(t, `c"d`, c.Address().City, "the later write wins whatever the order")
	}
}

// TestNullPhonesAndEmails_RuleT4: phones: null and emails: null remove nothing (each
// number is removed by its own null, the email by email: null), and say so.
func TestNullPhonesAndEmails_RuleT4(t *testing.T) {
	c, _ := apply(t, identify(t, 0, `{"phones":{"+19175554444":{"label":"cell"}},"email":"ann@example.com"}`))
	for _, key := range []string{"phones", "emails"} {
		diags := c.ApplyTraits(identify(t, 1, `{"`+key+`":null}`), nil).Diagnostics
		require.Len(t, diags, 1, key)
		assert.Equal(t, diag.TraitInvalid, diags[0].Code, key)
		assert.Equal(t, "traits."+key, diags[0].Field, key)
	}
	assert.Equal(t, []string{"+19175554444"}, c.Phones())
	assert.Equal(t, "ann@example.com", c.Email())
}
