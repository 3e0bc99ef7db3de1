package observe

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/sfsap/sfsap/test/observe/observetest"
)

// sessionIDPattern matches a Salesforce session id as the simulator
// issues them: a 15-character org id starting 00D, "!", then the secret.
var sessionIDPattern = regexp.MustCompile(`00D[0-9A-Za-z]{12}![0-9A-Za-z_-]{8,}`)

func TestLogsHoldNoSecretsOrPersonalData(t *testing.T) {
	t.Parallel()
	b := observetest.Start(t, nil)
	sum := b.RunDemo(t)
	token, err := b.Pipeline.Salesforce.AccessToken(context.Background())
	if err != nil {
		t.Fatalf("reading the session's access token: %v", err)
	}

	data, err := os.ReadFile("../../services/allinone/demodata/accounts.json")
	if err != nil {
		t.Fatalf("reading demo accounts: %v", err)
	}
	var accounts []map[string]string
	if err := json.Unmarshal(data, &accounts); err != nil {
		t.Fatalf("decoding demo accounts: %v", err)
	}
	// forbidden maps each value that must not appear in a log line to
	// what it is, for the failure message.
	forbidden := map[string]string{
		b.Config.Salesforce.ClientSecret: "OAuth client secret",
		b.Config.SAP.Password:            "SAP password",
		token:                            "Salesforce access token",
	}
	for _, a := range accounts {
		forbidden[a["Name"]] = "account name"
		forbidden[a["Phone"]] = "phone number"
		forbidden[strings.Split(a["BillingStreet"], "\n")[0]] = "street"
		// Short address parts such as "5067" could match unrelated
		// numbers, so they count only as a quoted value, the way
		// validation messages quote them.
		for _, field := range []string{"BillingCity", "BillingState", "BillingPostalCode"} {
			if v := a[field]; v != "" {
				forbidden[`\"`+v+`\"`] = "quoted address part"
			}
		}
	}

	lines := b.Logs.Lines()
	withAccount := 0
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line %d is not JSON: %v\n%s", i+1, err, line)
			continue
		}
		if _, ok := rec["account_id"]; ok {
			withAccount++
		}
		for value, what := range forbidden {
			if value != "" && strings.Contains(line, value) {
				t.Errorf("log line %d contains the %s %q:\n%s", i+1, what, value, line)
			}
		}
		if m := sessionIDPattern.FindString(line); m != "" {
			t.Errorf("log line %d contains a session id:\n%s", i+1, line)
		}
	}

	// The checks above only mean something if the services logged their
	// work, failures included, with the ids involved.
	if withAccount < sum.Converted {
		t.Errorf("%d log lines name an account, want at least one per conversion (%d)", withAccount, sum.Converted)
	}
	if !strings.Contains(strings.Join(lines, "\n"), `"msg":"sapworker: job failed for good; dead-lettered"`) {
		t.Errorf("no log line for the demo's failed accounts; logs:\n%s", strings.Join(lines, "\n"))
	}
}
