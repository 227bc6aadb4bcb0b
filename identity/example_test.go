package identity_test

import (
	"errors"
	"fmt"

	"github.com/regalkit/regalkit/identity"
)

func ExampleParsePhone() {
	n, err := identity.ParsePhone("(954) 555-2399", "US")
	fmt.Println(n.E164, n.Region, err)

	n, err = identity.ParsePhone("020 7946 0018", "GB")
	fmt.Println(n.E164, n.Region, err)

	// Well-formed, but no such number is assigned: refused, and the error shows only
	// the last four digits.
	_, err = identity.ParsePhone("+1 555 555 5555", "US")
	fmt.Println(err)
	var pe *identity.PhoneError
	if errors.As(err, &pe) {
		fmt.Println(pe.Reason)
	}
	// Output:
	// +19545552399 US <nil>
	// +442079460018 GB <nil>
	// identity: invalid phone number +***5555 (region US): not a valid number for its region
	// not a valid number for its region
}

func ExamplePhoneParser() {
	p := identity.NewPhoneParser(&identity.PhoneParserOptions{Region: "US", CacheSize: 1000})
	for range 3 {
		n, _ := p.Parse("+1 (954) 555-2399", "")
		fmt.Println(n.E164)
	}
	fmt.Println("cached results:", p.CacheLen())
	// Output:
	// +19545552399
	// +19545552399
	// +19545552399
	// cached results: 1
}

func ExampleNormalizeEmail() {
	email, err := identity.NormalizeEmail("  Rebecca.Greene@Example.COM ")
	fmt.Println(email, err)

	_, err = identity.NormalizeEmail("rebecca.greene@example")
	fmt.Println(err)
	// Output:
	// Rebecca.Greene@example.com <nil>
	// identity: invalid email address ***@example: domain needs a dot
}
