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

var addressPartNames = [numAddressParts]string{"line1", "line2", "city", "state", "postalCode", "country"}

// addressFieldNames are the parts' field paths as Changes reports them.
var addressFieldNames = [numAddressParts]string{"address.line1", "address.line2", "address.city", "address.state", "address.postalCode", "address.country"}

// addressPart maps an address sub-key, normalized as in Rule T1, to its part. It reads
// Segment's street, city, state, postalCode|zip, country; Regal's API street, city,
// state, zipcode; and the seed's AddressLine1, AddressLine2, City, ZipOrPostcode,
// StateProvinceCounty, CountryId (Rule T5).
func addressPart(normalized string) (int, bool) {
	switch normalized {
	case "line1", "street", "addressline1", "streetaddress", "address1":
		return partLine1, true
	case "line2", "addressline2", "address2":
		return partLine2, true
	case "city":
		return partCity, true
	case "state", "stateprovincecounty", "province", "region":
		return partState, true
	case "postalcode", "zip", "zipcode", "ziporpostcode", "postcode":
		return partPostalCode, true
	case "country", "countryid", "countrycode":
		return partCountry, true
	}
	return 0, false
}

// Address is a contact's canonical address (Rule T5).
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
func (c *Contact) Address() Address { return c.state.addressValue() }

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
