package dryrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Summary counts the results of a dry run.
type Summary struct {
	Accounts int `json:"accounts"`
	// Ready is the number of Accounts that sfsap would create in SAP.
	Ready int `json:"ready"`
	// WithProblems is the number of Accounts that cannot be mapped.
	WithProblems int `json:"with_problems"`
	// AlreadyInSAP is the number of Accounts that have an SAP number.
	AlreadyInSAP int `json:"already_in_sap"`
	NotFound     int `json:"not_found"`
}

// Summarize counts results.
func Summarize(results []Result) Summary {
	s := Summary{Accounts: len(results)}
	for _, r := range results {
		switch {
		case r.NotFound:
			s.NotFound++
		case r.SAPID != "":
			s.AlreadyInSAP++
		case len(r.Problems) > 0:
			s.WithProblems++
		case r.Ready():
			s.Ready++
		}
	}
	return s
}

// payloadText returns a payload for printing: JSON indented unless raw,
// anything else as it is.
func payloadText(payload []byte, raw bool) string {
	if !raw && json.Valid(payload) {
		var b bytes.Buffer
		if err := json.Indent(&b, payload, "", "  "); err == nil {
			return b.String()
		}
	}
	return string(payload)
}

func writeText(w io.Writer, results []Result, opts Options) error {
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "Account %s", r.AccountID)
		if r.Name != "" {
			fmt.Fprintf(&b, " %q", r.Name)
		}
		switch {
		case r.NotFound:
			b.WriteString(": not found in Salesforce\n\n")
			continue
		case r.SAPID != "":
			fmt.Fprintf(&b, ": already has SAP number %s, so sfsap creates no customer for it", r.SAPID)
		case len(r.Problems) > 0:
			b.WriteString(": cannot become an SAP customer")
		default:
			b.WriteString(": ready")
		}

		if len(r.Problems) > 0 {
			b.WriteString(". Problems:\n")
			for _, p := range r.Problems {
				b.WriteString("  - " + p.Message + "\n")
			}
		}
		if len(r.Payload) > 0 {
			fmt.Fprintf(&b, ". The %s adapter would send:\n%s\n", opts.AdapterName, strings.TrimRight(payloadText(r.Payload, opts.Raw), "\n"))
		}
		b.WriteString("\n")
	}

	s := Summarize(results)
	fmt.Fprintf(&b, "%d Accounts: %d ready, %d with problems, %d already in SAP, %d not found. Nothing was sent to SAP.\n",
		s.Accounts, s.Ready, s.WithProblems, s.AlreadyInSAP, s.NotFound)
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonResult is a Result with its payload embedded: as JSON when it is
// JSON, and as a string otherwise.
type jsonResult struct {
	Result
	Payload any `json:"payload,omitempty"`
}

func writeJSON(w io.Writer, results []Result, opts Options) error {
	out := struct {
		Adapter  string       `json:"adapter"`
		Accounts []jsonResult `json:"accounts"`
		Summary  Summary      `json:"summary"`
	}{Adapter: opts.AdapterName, Accounts: []jsonResult{}, Summary: Summarize(results)}

	for _, r := range results {
		jr := jsonResult{Result: r}
		switch {
		case len(r.Payload) == 0:
		case json.Valid(r.Payload):
			jr.Payload = json.RawMessage(r.Payload)
		default:
			jr.Payload = string(r.Payload)
		}
		out.Accounts = append(out.Accounts, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
