package contactcore

// Address parts in canonical order (Rule T5).
const (
	partLine1 = iota
	partLine2
	partCity
	partState
	partPostalCode
	partCountry
	numAddressParts
)

// addressParts is the table of address parts: each part's name (its key in the export
// and in the storage codec, and after "address." its path in Changes) and the
// sub-keys that write it, normalized as in Rule T1. It reads Segment's street, city,
// state, postalCode|zip, country; Regal's API street, city, state, zipcode; and the
// seed's AddressLine1, AddressLine2, City, ZipOrPostcode, StateProvinceCounty, CountryId
// (Rule T5). A new part is a row here, its constant above, and a field of Address.
var addressParts = [numAddressParts]struct {
	name string
	keys []string
}{
	partLine1:      {"line1", []string{"line1", "street", "addressline1", "streetaddress", "address1"}},
	partLine2:      {"line2", []string{"line2", "addressline2", "address2"}},
	partCity:       {"city", []string{"city"}},
	partState:      {"state", []string{"state", "stateprovincecounty", "province", "region"}},
	partPostalCode: {"postalCode", []string{"postalcode", "zip", "zipcode", "ziporpostcode", "postcode"}},
	partCountry:    {"country", []string{"country", "countryid", "countrycode"}},
}

// addressPartNames are the parts' names, and addressFieldNames their paths in Changes.
var addressPartNames, addressFieldNames = func() (names, paths [numAddressParts]string) {
	for i, p := range addressParts {
		names[i], paths[i] = p.name, "address."+p.name
	}
	return names, paths
}()

// addressPart maps an address sub-key, normalized as in Rule T1, to its part.
func addressPart(normalized []byte) (int, bool) {
	for i := range addressParts {
		for _, k := range addressParts[i].keys {
			if string(normalized) == k {
				return i, true
			}
		}
	}
	return 0, false
}

// Address is a contact's canonical address (Rule T5). contact.Address repeats these
// fields for the module's users; contact.Contact.Address converts between the two, so
// the compiler keeps them alike, and contact.Address.IsZero calls IsZero here.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
	// Extra holds unknown sub-keys under their original keys, values as compact JSON.
	Extra map[string]string `json:"-"`
}

// IsZero reports whether the address has no part at all.
func (a Address) IsZero() bool {
	return a.Line1 == "" && a.Line2 == "" && a.City == "" && a.State == "" && a.PostalCode == "" && a.Country == "" && len(a.Extra) == 0
}

// Address returns the contact's address.
func (c *Contact) Address() Address { return c.shown().addressValue() }

func (c *state) addressValue() Address {
	a := Address{
		Line1: c.address[partLine1].val, Line2: c.address[partLine2].val, City: c.address[partCity].val,
		State: c.address[partState].val, PostalCode: c.address[partPostalCode].val, Country: c.address[partCountry].val,
	}
	for _, kr := range c.addressExtra {
		if kr.reg.val != "" && (c.addressCleared.isZero() || kr.reg.st.compare(c.addressCleared) > 0) {
			if a.Extra == nil {
				a.Extra = make(map[string]string)
			}
			a.Extra[kr.key] = kr.reg.val
		}
	}
	return a
}
