package sap

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRule is wrapped by the errors that NewClassifier returns for a
// rule it cannot use.
var ErrInvalidRule = errors.New("invalid RETURN classification rule")

// Outcome is the effect of one SAP message on the call that returned it.
type Outcome string

// Outcomes a Rule can assign. They are the values accepted in
// configuration files.
const (
	// OutcomeSuccess means the message does not make the call fail.
	OutcomeSuccess Outcome = "success"
	// OutcomeTransient means the call failed but may succeed when retried.
	OutcomeTransient Outcome = "transient"
	// OutcomePermanent means the call failed and fails the same way until
	// someone changes the data or the SAP configuration.
	OutcomePermanent Outcome = "permanent"
)

// Kind returns the failure Kind of o, and 0 for OutcomeSuccess.
func (o Outcome) Kind() Kind {
	switch o {
	case OutcomeTransient:
		return Transient
	case OutcomePermanent:
		return Permanent
	}
	return 0
}

func (o Outcome) valid() bool {
	return o == OutcomeSuccess || o == OutcomeTransient || o == OutcomePermanent
}

// Rule assigns an Outcome to the SAP messages it matches. An empty match
// field matches any value, so a rule with only Type set matches every
// message of that type.
type Rule struct {
	// Type is the message type: S, E, W, I or A.
	Type string `yaml:"type" json:"type,omitempty"`
	// ID is the message class, such as F2. It matches case-insensitively.
	ID string `yaml:"id" json:"id,omitempty"`
	// Number is the message number. "42" and "042" are the same number.
	Number string `yaml:"number" json:"number,omitempty"`
	// Text matches messages whose text contains it, ignoring case.
	Text    string  `yaml:"text" json:"text,omitempty"`
	Outcome Outcome `yaml:"outcome" json:"outcome"`
}

// Matches reports whether m satisfies every non-empty field of r.
func (r Rule) Matches(m Message) bool {
	if r.Type != "" && !strings.EqualFold(r.Type, m.Type) {
		return false
	}
	if r.ID != "" && !strings.EqualFold(r.ID, strings.TrimSpace(m.ID)) {
		return false
	}
	if r.Number != "" && padNumber(r.Number) != padNumber(m.Number) {
		return false
	}
	if r.Text != "" && !strings.Contains(strings.ToLower(m.Message), strings.ToLower(r.Text)) {
		return false
	}
	return true
}

// padNumber returns a message number in its NUMC 3 form.
func padNumber(n string) string {
	n = strings.TrimSpace(n)
	if len(n) < 3 {
		n = strings.Repeat("0", 3-len(n)) + n
	}
	return n
}

// DefaultRules returns the rules every Classifier applies after the rules
// it was given. Lock conflicts, which end when the other user or job
// releases the customer, are transient. Every other E or A message is
// permanent.
//
// NOTE: MC 601 is the message of a failed ENQUEUE. The customer master may
// report a lock with other classes, so locks are also recognised by the
// English and German phrases of lock messages. Add rules for the messages
// a system is known to send.
func DefaultRules() []Rule {
	var rules []Rule
	for _, typ := range []string{"E", "A"} {
		rules = append(rules, Rule{Type: typ, ID: "MC", Number: "601", Outcome: OutcomeTransient})
		for _, text := range lockPhrases {
			rules = append(rules, Rule{Type: typ, Text: text, Outcome: OutcomeTransient})
		}
	}
	return append(rules,
		Rule{Type: "E", Outcome: OutcomePermanent},
		Rule{Type: "A", Outcome: OutcomePermanent},
		Rule{Type: "W", Outcome: OutcomeSuccess},
		Rule{Type: "I", Outcome: OutcomeSuccess},
		Rule{Type: "S", Outcome: OutcomeSuccess},
	)
}

// lockPhrases are parts of the texts of lock messages ("Object requested
// is currently locked by user X", "Customer X is being processed by user
// Y", "Debitor X ist gesperrt durch Y"). They avoid the bare word "locked"
// because a posting block ("locked for posting") is permanent.
var lockPhrases = []string{
	"locked by",
	"currently locked",
	"being processed by",
	"lock conflict",
	"enqueue",
	"gesperrt durch",
	"wird gerade",
}

// Classifier decides from a call's RETURN messages whether the call
// succeeded, failed for now, or failed for good. The zero value is not
// usable, so create one with NewClassifier.
type Classifier struct {
	rules []Rule
}

// NewClassifier returns a Classifier that tries rules in order, then
// DefaultRules. It returns an error wrapping ErrInvalidRule when a rule
// has an unknown Outcome or matches every message.
func NewClassifier(rules ...Rule) (*Classifier, error) {
	for i, r := range rules {
		if !r.Outcome.valid() {
			return nil, fmt.Errorf("rule %d (%+v): outcome %q: %w: use %q, %q or %q",
				i, r, r.Outcome, ErrInvalidRule, OutcomeSuccess, OutcomeTransient, OutcomePermanent)
		}
		if r.Type == "" && r.ID == "" && r.Number == "" && r.Text == "" {
			return nil, fmt.Errorf("rule %d: %w: it matches every message: set type, id, number or text", i, ErrInvalidRule)
		}
	}
	all := append(append([]Rule(nil), rules...), DefaultRules()...)
	return &Classifier{rules: all}, nil
}

// MessageOutcome returns the Outcome of the first rule that matches m. A
// message that no rule matches is a success when its type is empty, S, W
// or I, and permanent otherwise (an unknown type such as X, which SAP
// uses for a short dump).
func (c *Classifier) MessageOutcome(m Message) Outcome {
	for _, r := range c.rules {
		if r.Matches(m) {
			return r.Outcome
		}
	}
	switch strings.ToUpper(m.Type) {
	case "", "S", "W", "I":
		return OutcomeSuccess
	}
	return OutcomePermanent
}

// Classify returns the Outcome of a call that returned msgs. Transient
// wins over permanent, because a lock often comes with follow-up errors
// that would vanish with it. A real permanent error shows again on the
// retry. A call without failing messages, or without any messages,
// succeeded.
func (c *Classifier) Classify(msgs []Message) Outcome {
	out := OutcomeSuccess
	for _, m := range msgs {
		switch c.MessageOutcome(m) {
		case OutcomeTransient:
			return OutcomeTransient
		case OutcomePermanent:
			out = OutcomePermanent
		}
	}
	return out
}
