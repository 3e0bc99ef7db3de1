package sapsim

import (
	"fmt"
	"slices"
	"strings"
)

// Customer is a customer in the simulated customer master.
type Customer struct {
	// Number is the customer number (KUNNR), 10 digits with leading zeros.
	Number string
	// ExternalRef is the value of the external-reference field, such as
	// KNA1-ZZSFID, or "" when none was stored.
	ExternalRef string
	// Person reports whether the customer was created from personal data
	// (then Name contains the last name and Name2 the first name).
	Person     bool
	Name       string
	Name2      string
	Name3      string
	Name4      string
	Street     string
	HouseNo    string
	PostalCode string
	City       string
	Country    string
	Region     string
	// Language is the SAP language key, such as E.
	Language string
	Phone    string
	Fax      string
	Email    string
	Currency string
	// AccountGroup, SalesArea and CompanyCodes are copied from Reference,
	// the number of the reference customer.
	AccountGroup string
	SalesArea    SalesArea
	CompanyCodes []string
	Reference    string
}

// Customers returns copies of the committed customers created through the
// simulator, in the order they were committed. Reference customers are not
// included.
func (s *Server) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Customer, len(s.customers))
	for i, c := range s.customers {
		out[i] = c.clone()
	}
	return out
}

// Customer returns the committed customer with number no, which may lack
// its leading zeros.
func (s *Server) Customer(no string) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byNumber[normalizeNumber(no)]
	if !ok {
		return Customer{}, false
	}
	return c.clone(), true
}

// CountByExternalRef returns the number of committed customers whose
// external reference is ref, compared case-insensitively, because adapters
// may store the 18-character Salesforce id upper-cased and that form is
// still unique.
func (s *Server) CountByExternalRef(ref string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.customers {
		if strings.EqualFold(c.ExternalRef, ref) {
			n++
		}
	}
	return n
}

// Calls returns how many requests named function module fm, including
// those that failed.
func (s *Server) Calls(fm string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[fm]
}

func (c *Customer) clone() Customer {
	out := *c
	out.CompanyCodes = slices.Clone(c.CompanyCodes)
	return out
}

// commit stores the work of sess and reports whether there was any.
// s.mu must be held.
func (s *Server) commit(sess *session) bool {
	changed := len(sess.created) > 0 || len(sess.refs) > 0
	for _, c := range sess.created {
		s.customers = append(s.customers, c)
		s.byNumber[c.Number] = c
	}
	for no, ref := range sess.refs {
		if c, ok := s.byNumber[no]; ok {
			c.ExternalRef = ref
		}
	}
	for _, c := range sess.created {
		s.log.Info("sapsim: customer committed", "sap_customer", c.Number, "account_id", c.ExternalRef)
	}
	sess.rollback()
	return changed
}

// assignNumber returns the next number of the internal range of account
// group. s.mu must be held.
func (s *Server) assignNumber(group string) (string, *message) {
	r, ok := s.opts.NumberRanges[group]
	if !ok {
		m := msgSim("013", "Account group &1 has no internal number range", group)
		return "", &m
	}
	next := s.nextNumber[group]
	if next > r.To {
		m := msgSim("014", "Number range of account group &1 is exhausted", group)
		return "", &m
	}
	s.nextNumber[group] = next + 1
	return fmt.Sprintf("%010d", next), nil
}

// lookup returns the committed customer or reference customer no as a
// customer. s.mu must be held.
func (s *Server) lookup(no string) (*Customer, bool) {
	no = normalizeNumber(no)
	if c, ok := s.byNumber[no]; ok {
		return c, true
	}
	if ref, ok := s.references[no]; ok {
		c := &Customer{Number: ref.Number, Name: ref.Name, AccountGroup: ref.AccountGroup,
			CompanyCodes: ref.CompanyCodes, Reference: ref.Number}
		if len(ref.SalesAreas) > 0 {
			c.SalesArea = ref.SalesAreas[0]
		}
		return c, true
	}
	return nil, false
}

// salesAreas returns the sales areas customer no is extended to. s.mu must
// be held.
func (s *Server) salesAreas(no string) []SalesArea {
	if ref, ok := s.references[no]; ok {
		return ref.SalesAreas
	}
	if c, ok := s.byNumber[no]; ok {
		return []SalesArea{c.SalesArea}
	}
	return nil
}

// normalizeNumber applies the ALPHA conversion: numeric numbers get
// leading zeros up to 10 digits.
func normalizeNumber(no string) string {
	no = strings.TrimSpace(no)
	if no == "" || len(no) > 10 || strings.Trim(no, "0123456789") != "" {
		return no
	}
	return strings.Repeat("0", 10-len(no)) + no
}
