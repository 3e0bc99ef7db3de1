package sap

import (
	"errors"
	"testing"
)

func TestClassifyDefaults(t *testing.T) {
	t.Parallel()

	c, err := NewClassifier()
	if err != nil {
		t.Fatalf("NewClassifier() error = %v", err)
	}
	tests := []struct {
		name string
		msgs []Message
		want Outcome
	}{
		{"no messages", nil, OutcomeSuccess},
		{"empty type", []Message{{Type: ""}}, OutcomeSuccess},
		{"success", []Message{{Type: "S", ID: "F2", Number: "170", Message: "Customer created"}}, OutcomeSuccess},
		{"warning", []Message{{Type: "W", Message: "Tax number not checked"}}, OutcomeSuccess},
		{"info", []Message{{Type: "I", Message: "note"}}, OutcomeSuccess},
		{"reference customer error", []Message{{Type: "E", ID: "ZZ", Number: "001",
			Message: "Reference customer 900001 not maintained for sales area 1000/10/00"}}, OutcomePermanent},
		{"sales area error", []Message{{Type: "E", ID: "F2", Number: "156", Message: "Debtor 0000099999 is not created for sales area 1000 10 00"}}, OutcomePermanent},
		{"abort", []Message{{Type: "A", ID: "F2", Number: "999", Message: "Termination"}}, OutcomePermanent},
		{"lock by text", []Message{{Type: "E", ID: "ZZ", Number: "002", Message: "Customer data locked by user BATCH01"}}, OutcomeTransient},
		{"enqueue lock", []Message{{Type: "E", ID: "MC", Number: "601", Message: "Object requested is currently locked by user X"}}, OutcomeTransient},
		{"enqueue lock short number", []Message{{Type: "E", ID: "mc", Number: "601"}}, OutcomeTransient},
		{"german lock", []Message{{Type: "E", ID: "F2", Number: "042", Message: "Debitor 100 wird gerade von MAIER bearbeitet"}}, OutcomeTransient},
		{"posting block is permanent", []Message{{Type: "E", Message: "Account 100 is locked for posting"}}, OutcomePermanent},
		{"warning with lock text", []Message{{Type: "W", Message: "Data was locked by user X"}}, OutcomeSuccess},
		{"lock wins over error", []Message{
			{Type: "E", Message: "Customer could not be created"},
			{Type: "E", Message: "Customer 100 is being processed by user BATCH01"},
		}, OutcomeTransient},
		{"error wins over warning", []Message{{Type: "W", Message: "check"}, {Type: "E", Message: "bad"}}, OutcomePermanent},
		{"unknown type", []Message{{Type: "X", Message: "dump"}}, OutcomePermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := c.Classify(tt.msgs); got != tt.want {
				t.Fatalf("Classify(%v) = %q, want %q", tt.msgs, got, tt.want)
			}
		})
	}
}

func TestClassifyUserRulesFirst(t *testing.T) {
	t.Parallel()

	c, err := NewClassifier(
		Rule{ID: "ZZ", Number: "7", Outcome: OutcomeTransient},
		Rule{Type: "E", ID: "F2", Number: "156", Outcome: OutcomeSuccess},
		Rule{Type: "W", Text: "duplicate", Outcome: OutcomePermanent},
	)
	if err != nil {
		t.Fatalf("NewClassifier() error = %v", err)
	}
	tests := []struct {
		msg  Message
		want Outcome
	}{
		{Message{Type: "E", ID: "ZZ", Number: "007"}, OutcomeTransient},
		{Message{Type: "E", ID: "F2", Number: "156"}, OutcomeSuccess},
		{Message{Type: "W", Message: "Possible DUPLICATE of 100"}, OutcomePermanent},
		{Message{Type: "E", ID: "F2", Number: "157"}, OutcomePermanent},
	}
	for _, tt := range tests {
		if got := c.MessageOutcome(tt.msg); got != tt.want {
			t.Errorf("MessageOutcome(%v) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}

func TestNewClassifierRejectsBadRules(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		rule Rule
	}{
		{"unknown outcome", Rule{Type: "E", Outcome: "retry"}},
		{"empty outcome", Rule{Type: "E"}},
		{"matches everything", Rule{Outcome: OutcomeSuccess}},
	}
	for _, tt := range tests {
		_, err := NewClassifier(tt.rule)
		if !errors.Is(err, ErrInvalidRule) {
			t.Errorf("NewClassifier(%+v) error = %v, want %v", tt.rule, err, ErrInvalidRule)
		}
	}
}

func TestOutcomeKind(t *testing.T) {
	t.Parallel()

	tests := []struct {
		o    Outcome
		want Kind
	}{
		{OutcomeSuccess, 0},
		{OutcomeTransient, Transient},
		{OutcomePermanent, Permanent},
	}
	for _, tt := range tests {
		if got := tt.o.Kind(); got != tt.want {
			t.Errorf("Outcome(%q).Kind() = %v, want %v", tt.o, got, tt.want)
		}
	}
}
